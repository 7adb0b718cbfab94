/**
 * `tasklet-rt compare`: the same driver once with a tasklet and once converted to a BH work item
 * (harness/compare/), and where their observable behaviour differs. Exit 0, 2 bad usage, 3 fault.
 */
import { mkdirSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { compareReport } from '../harness/compare/report.ts';
import { runCompare } from '../harness/compare/run.ts';
import { MAX_CPUS } from '../kernel/index.ts';
import { duration, integer } from './args.ts';
import { addControlOptions, type ControlCliOptions, controlRequest } from './control-options.ts';
import { EXIT_FAULT, EXIT_OK } from './errors.ts';
import { checkOutputDir, checkWritable } from './output.ts';

interface CompareCliOptions extends ControlCliOptions {
  cpus: number;
  duration: number;
  seed?: number;
  trials: number;
  traceDir?: string;
}

export function registerCompare(program: Command): void {
  const command = program
    .command('compare')
    .description('run one driver with a tasklet and converted to a BH work item; report where they differ')
    .addOption(new Option('--cpus <n>', 'emulated CPUs').argParser(integer('--cpus', 2, MAX_CPUS)).default(2))
    .addOption(
      new Option('--duration <d>', 'machine time of the steady load on each side (then the experiments)')
        .argParser(duration('--duration', 100, 600_000))
        .default(2000, '2s'),
    )
    .addOption(
      new Option('--seed <s>', 'workload seed (default: random, printed)').argParser(
        integer('--seed', 0, 2 ** 32 - 1),
      ),
    )
    .addOption(
      new Option('--trials <n>', 'trials of each experiment (disabled, teardown)')
        .argParser(integer('--trials', 1, 1000))
        .default(5),
    )
    .option(
      '--trace-dir <dir>',
      "write each side's ftrace text there (tasklet.ftrace.txt, bh-work.ftrace.txt)",
    );
  addControlOptions(command).action(async (opts: CompareCliOptions) => {
    process.exitCode = await compareCommand(opts);
  });
}

/** The trace directory may not exist yet (it is made), as `fuzz --out`'s. */
function checkDir(flag: string, dir: string | undefined): void {
  if (dir === undefined) return;
  checkOutputDir(flag, dir);
  mkdirSync(dir, { recursive: true });
  checkWritable(flag, `${dir}/tasklet.ftrace.txt`);
}

async function compareCommand(opts: CompareCliOptions): Promise<number> {
  checkDir('--trace-dir', opts.traceDir);
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const controlled = controlRequest(opts, seed);
  process.stdout.write(
    `tasklet-rt compare: ${opts.cpus} CPUs, ${opts.duration / 1000}s steady load per side, ${opts.trials} trials, seed ${seed}${controlled ? `, controlled (${controlled.strategy})` : ''}\n\n`,
  );
  try {
    const result = await runCompare({
      cpus: opts.cpus,
      durationMs: opts.duration,
      seed,
      trials: opts.trials,
      controlled,
      traceDir: opts.traceDir,
    });
    process.stdout.write(compareReport(result));
    return EXIT_OK;
  } catch (error) {
    process.stderr.write(`tasklet-rt compare: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAULT;
  }
}
