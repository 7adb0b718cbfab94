/** `tasklet-rt stress`: the main job. Exit 0 clean, 1 violation, 2 bad usage, 3 fault, 130/143 signal. */
import { availableParallelism } from 'node:os';
import { MultiBar, Presets } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { huntReport, huntStressSchedule, type StressHunt } from '../harness/stress/hunt.ts';
import { runStressJobs, type StressJob } from '../harness/stress/jobs.ts';
import { DEFAULT_MIX, type Mix, parseMix } from '../harness/stress/mix.ts';
import { finalReport, jobsReport, statsLine, toJson, toJunit } from '../harness/stress/report.ts';
import { runStress, type StressOptions, type StressResult } from '../harness/stress/run.ts';
import { MAX_STRESS_TASKLETS, PRIVATE_PER_CPU } from '../harness/stress/shadow.ts';
import { breaksLabel, STRESS_MUTANT_NAMES, STRESS_MUTANTS } from '../harness/stress-mutants.ts';
import { describeTrace } from '../harness/trace/summary.ts';
import { MAX_CPUS } from '../kernel/index.ts';
import {
  choice,
  duration,
  each,
  integer,
  lockupOptions,
  moduleFile,
  moduleParam,
  type OopsPolicy,
  oopsOption,
} from './args.ts';
import { addControlOptions, type ControlCliOptions, controlRequest } from './control-options.ts';
import { EXIT_FAULT, EXIT_OK, EXIT_VIOLATION, UsageError } from './errors.ts';
import { checkWritable, writeOutput } from './output.ts';
import { onTermination } from './signals.ts';
import { stressModuleCommand } from './stress-module.ts';
import { type TraceCliOptions, traceOptions, traceRequest } from './trace-options.ts';

export interface StressCliOptions extends TraceCliOptions, ControlCliOptions {
  steps?: number;
  oops: OopsPolicy;
  cpus: number;
  tasklets?: number;
  duration: number;
  seed?: number;
  mix: Mix;
  hotplug?: number | false;
  inject?: string;
  json?: string;
  junit?: string;
  oracles: boolean;
  quiet: boolean;
  listMutants?: boolean;
  hunt: number | false;
  warn?: 'fail' | 'continue';
  param?: [string, number][];
  jobs: number;
}

/** More jobs than this would oversubscribe any host: each job is a machine of its own. */
const MAX_JOBS = 64;

/** Machine time of one hunt try: the failures the oracles catch show within it. */
const HUNT_TRY_MS = 2000;

/** `npm start` cycles CPUs: a CPU goes down or comes back every half second. */
const DEFAULT_HOTPLUG_MS = 500;

/** The fewest tasklets the workload lays out for `cpus` CPUs (pairs, private ones, some shared). */
export const minTasklets = (cpus: number): number => cpus * (2 + PRIVATE_PER_CPU) + 2;
export const defaultTasklets = (cpus: number): number => Math.max(64, cpus * (2 + PRIVATE_PER_CPU) + 32);

export function exitCodeOf(result: StressResult): number {
  if (result.status === 'violation') return EXIT_VIOLATION;
  if (result.status === 'fault') return EXIT_FAULT;
  return EXIT_OK;
}

const mixParser = (value: string): Mix => {
  try {
    return parseMix(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

export function registerStress(program: Command): void {
  const command = program
    .command('stress')
    .description(
      'stress every tasklet guarantee on all CPUs with every oracle on, and report; with MODULE, stress your module under its declared stimulus',
    )
    .argument(
      '[module]',
      'a module file to stress (its defineModule declares a stimulus)',
      moduleFile('stress'),
    )
    .addOption(
      new Option('--cpus <n>', `emulated CPUs (1-${MAX_CPUS})`)
        .argParser(integer('--cpus', 1, MAX_CPUS))
        .default(Math.min(availableParallelism(), MAX_CPUS), "this host's cores"),
    )
    .addOption(
      new Option('--tasklets <t>', 'tasklets in the workload').argParser(
        integer('--tasklets', 1, MAX_STRESS_TASKLETS),
      ),
    )
    .addOption(
      new Option('--duration <d>', 'how long to run (10s, 2m)')
        .argParser(duration('--duration', 100))
        .default(10_000, '10s'),
    )
    .addOption(
      new Option(
        '--seed <s>',
        'seed for every choice the workload makes (default: random, printed)',
      ).argParser(integer('--seed', 0, 2 ** 32 - 1)),
    )
    .addOption(
      new Option(
        '--mix <ops>',
        `op weights, e.g. sched=40,kill=10 (ops: ${Object.keys(DEFAULT_MIX).join(', ')})`,
      )
        .argParser(mixParser)
        .default(DEFAULT_MIX, 'balanced'),
    )
    .addOption(
      new Option('--hotplug <period>', 'take a CPU down or up every period (e.g. 500ms)')
        .argParser(duration('--hotplug', 10))
        .default(DEFAULT_HOTPLUG_MS, '500ms'),
    )
    .addOption(new Option('--no-hotplug', 'keep every CPU online'))
    .addOption(
      new Option('--inject <mutant>', 'replace part of the algorithm with a broken variant').argParser(
        choice('--inject', STRESS_MUTANT_NAMES),
      ),
    )
    .option('--list-mutants', 'list the mutants and exit')
    .option('--json <file>', 'write the result as JSON')
    .option('--junit <file>', 'write the result as JUnit XML')
    .option('--no-oracles', 'run the workload without checking (to measure oracle overhead)')
    .option('--quiet', 'print only the final report', false)
    .addOption(
      new Option(
        '--hunt <budget>',
        'after a free-running failure, look this long for a controlled run that reproduces it exactly',
      )
        .argParser(duration('--hunt', 1000))
        .default(60_000, '60s'),
    )
    .addOption(new Option('--no-hunt', 'report a free-running failure without looking for an exact repro'))
    .addOption(oopsOption())
    .addOption(
      new Option(
        '--warn <policy>',
        'with MODULE: after a kernel report, fail (exit 1) or continue',
      ).argParser(choice('--warn', ['fail', 'continue'] as const)),
    )
    .addOption(
      new Option('--param <module.name=value...>', 'with MODULE: module parameters').argParser(
        each(moduleParam('--param')),
      ),
    )
    .addOption(
      new Option(
        '--jobs <n>',
        'controlled mode: run n machines side by side, job j with seed S+j; the first failure stops them all',
      )
        .argParser(integer('--jobs', 1, MAX_JOBS))
        .default(1),
    )
    .addOption(lockupOptions()[0])
    .addOption(lockupOptions()[1]);
  for (const option of traceOptions()) command.addOption(option);
  addControlOptions(command).addOption(
    new Option('--steps <n>', 'controlled mode: end the load after n scheduling decisions').argParser(
      integer('--steps', 1, 2 ** 52),
    ),
  );
  command.action(async (module: string | undefined, opts: StressCliOptions, cmd: Command) => {
    if (module !== undefined) {
      process.exitCode = await stressModuleCommand(module, opts, cmd);
      return;
    }
    for (const flag of ['warn', 'param'] as const)
      if (opts[flag] !== undefined) throw new UsageError(`--${flag} needs a MODULE (stress ./my-module.ts)`);
    if (opts.jobs !== 1 && !opts.controlled)
      throw new UsageError('--jobs needs --controlled (a free-running run already uses every core)');
    process.exitCode = await stressCommand(opts);
  });
}

export function listMutants(): string {
  return `${STRESS_MUTANT_NAMES.map((name) => `${name.padEnd(25)} ${STRESS_MUTANTS[name].description} (breaks ${breaksLabel(STRESS_MUTANTS[name].breaks)})`).join('\n')}\n`;
}

async function stressCommand(opts: StressCliOptions): Promise<number> {
  if (opts.listMutants) {
    process.stdout.write(listMutants());
    return EXIT_OK;
  }
  const tasklets = opts.tasklets ?? defaultTasklets(opts.cpus);
  if (tasklets < minTasklets(opts.cpus)) {
    throw new UsageError(
      `--tasklets ${tasklets} is too few for ${opts.cpus} CPUs (at least ${minTasklets(opts.cpus)})`,
    );
  }
  checkWritable('--json', opts.json);
  checkWritable('--junit', opts.junit);
  const tracing = traceRequest(opts, opts.cpus);
  if (opts.jobs > 1 && (opts.ftrace !== undefined || opts.trace !== undefined))
    throw new UsageError('--ftrace and --trace write one run: use them with --jobs 1');
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const controlled = controlRequest(opts, seed);
  if (opts.steps !== undefined && controlled === undefined)
    throw new UsageError('--steps needs --controlled');
  const log = (line: string): void => {
    if (!opts.quiet) process.stdout.write(`${line}\n`);
  };
  log(
    `tasklet-rt stress: ${opts.cpus} CPUs, ${tasklets} tasklets, ${opts.duration / 1000}s${opts.steps ? ` or ${opts.steps} decisions` : ''}, seed ${seed}${opts.inject ? `, mutant ${opts.inject}` : ''}${controlled ? `, controlled (${controlled.strategy})` : ''}${opts.jobs > 1 ? `, ${opts.jobs} jobs (seeds ${seed}..${seed + opts.jobs - 1})` : ''}`,
  );
  const bars =
    !opts.quiet && process.stdout.isTTY
      ? new MultiBar({ format: ' {bar} {value}/{total}s', hideCursor: true }, Presets.shades_classic)
      : null;
  const bar = bars?.create(Math.round(opts.duration / 1000), 0);
  const termination = onTermination();
  const options: StressOptions = {
    cpus: opts.cpus,
    tasklets,
    durationMs: opts.duration,
    seed,
    mix: opts.mix,
    hotplugMs: opts.hotplug === false ? 0 : (opts.hotplug ?? 0),
    traceCapacity: tracing.capacity,
    oopsContinue: opts.oops === 'continue',
    traceFiles: tracing.files,
    inject: opts.inject,
    oracles: opts.oracles,
    controlled,
    stepLimit: opts.steps,
  };
  let jobs: StressJob[] | null = null;
  let result: StressResult;
  if (opts.jobs > 1) {
    log(`running ${opts.jobs} jobs (no stats lines: each job reports at its end)`);
    ({ result, jobs } = await runStressJobs(options, opts.jobs, termination.signalled));
  } else
    result = await runStress(options, {
      interrupted: termination.signalled,
      onSample: (sample) => {
        const line = statsLine(sample, opts.cpus);
        if (bars && bar) {
          bars.log(`${line}\n`);
          bar.update(Math.min(Math.round(sample.elapsedMs / 1000), Math.round(opts.duration / 1000)));
        } else log(line);
      },
    });
  bars?.stop();
  termination.dispose();
  process.stdout.write(`\n${finalReport(result)}\n`);
  if (jobs !== null) process.stdout.write(`${jobsReport(jobs).join('\n')}\n`);
  if (result.trace !== null) process.stdout.write(`${describeTrace(result.trace).join('\n')}\n`);
  const hunt =
    result.status === 'violation' &&
    controlled === undefined &&
    opts.hunt !== false &&
    termination.exitCode() === undefined
      ? await huntExactRepro(result, opts.hunt, opts.quiet)
      : null;
  writeOutput(opts.json, toJson(result, hunt, jobs));
  writeOutput(opts.junit, toJunit(result));
  return termination.exitCode() ?? exitCodeOf(result);
}

/** A free-running failure's search for the controlled run that reproduces it, told as it goes. */
async function huntExactRepro(result: StressResult, budgetMs: number, quiet: boolean): Promise<StressHunt> {
  const oracle = result.violations[0]?.oracle;
  process.stdout.write(
    `\nhunting for an exact repro of ${oracle} (up to ${budgetMs / 1000}s of controlled runs)\n`,
  );
  let tries = 0;
  const hunt = await huntStressSchedule(result, {
    budgetMs,
    tryMs: HUNT_TRY_MS,
    onRun: (what, plan) => {
      if (what === 'try') tries++;
      if (!quiet && what === 'try')
        process.stdout.write(`  try ${tries}: ${plan.controlled?.strategy} seed ${plan.seed}\n`);
    },
  });
  process.stdout.write(`${huntReport(hunt)}\n`);
  return hunt;
}
