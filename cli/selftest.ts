/** `tasklet-rt selftest`: the clean workload and every mutant; exit 1 if a mutant survives. */
import { availableParallelism } from 'node:os';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { guaranteeLabel } from '../harness/oracles/guarantees.ts';
import { median, runSelftest, type SelftestRow } from '../harness/selftest.ts';
import { SELFTEST_MUTANT_NAMES } from '../harness/stress-mutants.ts';
import { MAX_CPUS } from '../kernel/index.ts';
import { choice, duration, integer } from './args.ts';
import { EXIT_OK, EXIT_VIOLATION } from './errors.ts';
import { checkWritable, writeOutput } from './output.ts';
import { defaultTasklets } from './stress.ts';

interface SelftestCliOptions {
  cpus: number;
  budget: number;
  seed?: number;
  only?: string;
  json?: string;
}

export function registerSelftest(program: Command): void {
  program
    .command('selftest')
    .description('run the clean workload and every mutant: does each oracle catch its bug?')
    .addOption(
      new Option('--cpus <n>', 'emulated CPUs')
        .argParser(integer('--cpus', 2, MAX_CPUS))
        .default(Math.max(2, Math.min(availableParallelism(), MAX_CPUS))),
    )
    .addOption(
      new Option('--budget <d>', 'longest time a run may take to catch its mutant')
        .argParser(duration('--budget', 500))
        .default(30_000, '30s'),
    )
    .addOption(
      new Option('--seed <s>', 'workload seed (default: random, printed)').argParser(
        integer('--seed', 0, 2 ** 32 - 1),
      ),
    )
    .addOption(
      new Option('--only <mutant>', 'run just this mutant (and the clean run)').argParser(
        choice('--only', SELFTEST_MUTANT_NAMES),
      ),
    )
    .option('--json <file>', 'write the table as JSON')
    .action(async (opts: SelftestCliOptions) => {
      process.exitCode = await selftestCommand(opts);
    });
}

const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)}s`);

async function selftestCommand(opts: SelftestCliOptions): Promise<number> {
  checkWritable('--json', opts.json);
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  process.stdout.write(
    `tasklet-rt selftest: ${opts.cpus} CPUs, budget ${opts.budget / 1000}s per run, seed ${seed}\n`,
  );
  const rows = await runSelftest({
    cpus: opts.cpus,
    tasklets: defaultTasklets(opts.cpus),
    budgetMs: opts.budget,
    seed,
    mutants: opts.only ? [opts.only] : undefined,
    onRow: (row) => process.stdout.write(`  ${row.run}: ${row.ok ? 'ok' : 'FAILED'} (${row.status})\n`),
  });
  process.stdout.write(`${renderTable(rows)}\n`);
  const detect = rows.filter((r) => r.detectMs !== undefined).map((r) => r.detectMs as number);
  if (detect.length > 0) {
    process.stdout.write(
      `median time to detect ${seconds(median(detect))}, slowest ${seconds(Math.max(...detect))}\n`,
    );
  }
  writeOutput(
    opts.json,
    `${JSON.stringify({ seed, cpus: opts.cpus, budgetMs: opts.budget, rows }, null, 2)}\n`,
  );
  const failed = rows.filter((r) => !r.ok);
  process.stdout.write(
    failed.length === 0 ? 'selftest: PASS\n' : `selftest: FAIL (${failed.map((r) => r.run).join(', ')})\n`,
  );
  return failed.length === 0 ? EXIT_OK : EXIT_VIOLATION;
}

function renderTable(rows: SelftestRow[]): string {
  const table = new Table({
    head: ['run', 'breaks', 'result', 'time', 'caught by', 'detail'],
    wordWrap: true,
    // 93 columns of text and 7 of borders: the table fits in 100.
    colWidths: [22, 9, 9, 8, 21, 24],
    style: process.stdout.isTTY ? {} : { head: [], border: [] },
  });
  for (const r of rows) {
    const result = r.expected === 'clean' ? (r.ok ? 'clean' : r.status) : r.ok ? 'caught' : 'SURVIVED';
    const by = r.oracle
      ? `${guaranteeLabel(r.guarantee ?? 0)} ${r.oracle}${r.ownOracle === false ? ' (another oracle)' : ''}`
      : '-';
    table.push([
      r.run,
      r.breaks ? r.breaks.map(guaranteeLabel).join(' ') : 'none',
      result,
      seconds(r.detectMs),
      by,
      r.detail,
    ]);
  }
  return table.toString();
}
