/**
 * `tasklet-rt bench`: dispatch benchmarks of the runtime against the bare ceiling and piscina.
 * Every flag is validated, and every output path is checked before anything runs.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type LoadPart, parseLoad } from '../bench/load.ts';
import { htmlReport } from '../bench/report/html.ts';
import { markdownReport } from '../bench/report/markdown.ts';
import { TERMINAL_WIDTH, terminalReport } from '../bench/report/terminal.ts';
import { WORKLOADS, type Workload } from '../bench/results.ts';
import { runBench } from '../bench/run.ts';
import { MAX_CPUS } from '../kernel/index.ts';
import { choice, duration, integer } from './args.ts';
import { fuzzRate } from './bench-fuzz.ts';
import { UsageError } from './errors.ts';
import { checkWritable } from './output.ts';

interface BenchFlags {
  cpus: number;
  duration: number;
  runs: number;
  only: Workload[];
  quick: boolean;
  idlePollUs: number;
  load: LoadPart[];
  json?: string;
  md?: string;
  html?: string;
}

/** --quick shortens the defaults; values given explicitly still win. */
const QUICK_DEFAULTS = { duration: 100, runs: 1 };

function loadSpec(value: string): LoadPart[] {
  const parts = parseLoad(value);
  if (parts === null)
    throw new InvalidArgumentError(
      `--load must be N, N:hog or N:machine (N from 1 to 64), comma-separated, got '${value}'`,
    );
  return parts;
}

function workloadList(value: string): Workload[] {
  const parse = choice('--only', WORKLOADS);
  const list = value.split(',').map((w) => parse(w.trim()));
  if (list.length === 0) throw new InvalidArgumentError('--only needs at least one workload');
  return [...new Set(list)];
}

/**
 * Fails now, not after minutes of benchmarking, when a report could not be written. A missing
 * report folder is made if its parent exists (one level only: never a walk up a path like /proc),
 * and said so.
 */
function checkReportPath(flag: string, file: string): string {
  const path = resolve(file);
  const dir = dirname(path);
  if (!existsSync(dir) && existsSync(dirname(dir))) {
    try {
      mkdirSync(dir);
      process.stdout.write(`bench: made directory ${dir} (for ${flag})\n`);
    } catch (error) {
      throw new UsageError(
        `${flag} ${file}: cannot create ${dir}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  checkWritable(flag, file);
  return path;
}

/** The report's width: 100 columns, fewer on a narrower terminal. */
function terminalWidth(): number {
  const cols = process.stdout.isTTY ? process.stdout.columns : undefined;
  return cols !== undefined && cols > 0 ? Math.min(TERMINAL_WIDTH, cols) : TERMINAL_WIDTH;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('dispatch benchmarks: tasklet-rt vs the bare algorithm vs piscina')
    .addOption(
      new Option('--cpus <n>', `largest machine (1-${MAX_CPUS}); scaling runs 1..n`)
        .argParser(integer('--cpus', 1, MAX_CPUS))
        .default(Math.min(availableParallelism(), MAX_CPUS)),
    )
    .addOption(
      new Option('--duration <d>', 'measured time per run (500ms, 1s)')
        .argParser(duration('--duration', 10, 600_000))
        .default(1000, '1s'),
    )
    .addOption(
      new Option('--runs <n>', 'repeats per figure (median, min, max)')
        .argParser(integer('--runs', 1, 100))
        .default(3),
    )
    .addOption(
      new Option('--only <workloads>', `comma-separated: ${WORKLOADS.join(', ')}`)
        .argParser(workloadList)
        .default([...WORKLOADS], 'all'),
    )
    .option('--quick', 'tiny sizes and short runs (smoke test: figures indicative only, not graded)', false)
    .addOption(
      new Option('--idle-poll-us <us>', 'idle CPUs poll this long before sleeping (0 = sleep at once)')
        .argParser(integer('--idle-poll-us', 0, 100_000))
        .default(100),
    )
    .addOption(
      new Option(
        '--load <spec>',
        'run host load beside the bench: N busy threads (N or N:hog), an N-CPU stress machine (N:machine), comma-separated',
      )
        .argParser(loadSpec)
        .default([], 'none'),
    )
    .option('--json <file>', 'write the results as JSON')
    .option('--md <file>', 'write a Markdown report')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .action(async (flags: BenchFlags, command: Command) => {
      const outputs = {
        json: flags.json && checkReportPath('--json', flags.json),
        md: flags.md && checkReportPath('--md', flags.md),
        html: flags.html && checkReportPath('--html', flags.html),
      };
      const given = (name: string) => command.getOptionValueSource(name) === 'cli';
      const results = await runBench({
        cpus: flags.cpus,
        durationMs: flags.quick && !given('duration') ? QUICK_DEFAULTS.duration : flags.duration,
        runs: flags.quick && !given('runs') ? QUICK_DEFAULTS.runs : flags.runs,
        only: flags.only,
        quick: flags.quick,
        idlePollUs: flags.idlePollUs,
        load: flags.load,
        fuzzRate,
        log: (line) => process.stderr.write(`bench: ${line}\n`),
      });
      process.stdout.write(terminalReport(results, terminalWidth()));
      // Every file the run writes is named as soon as it is written, one line each; the bench
      // writes nothing else.
      process.stdout.write('\n');
      let wrote = 0;
      const write = (path: string | undefined, what: string, text: () => string) => {
        if (!path) return;
        writeFileSync(path, text());
        process.stdout.write(`bench: wrote ${path} (${what})\n`);
        wrote++;
      };
      write(outputs.json, 'JSON results', () => `${JSON.stringify(results, null, 2)}\n`);
      write(outputs.md, 'Markdown report', () => markdownReport(results));
      write(outputs.html, 'HTML report', () => htmlReport(results));
      if (wrote === 0) process.stdout.write('bench: no files written (--json, --md, --html write reports)\n');
    });
}
