/**
 * `tasklet-rt fuzz` and `tasklet-rt replay`. fuzz: exit 0 clean, 1 a violation (shrunk, repro
 * file written), 2 bad usage, 130/143 signal. replay: exit 1 if the file's violation
 * reproduced at least once, 0 if never, 2 for a missing or malformed file.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { FUZZ_STRATEGIES } from '../control/plan.ts';
import type { CampaignResult, Failure, Progress } from '../harness/fuzz/campaign.ts';
import { Coverage } from '../harness/fuzz/coverage.ts';
import { type JobsProgress, type JobsResult, runJobs } from '../harness/fuzz/jobs.ts';
import { toJunit } from '../harness/fuzz/junit.ts';
import { FUZZ_MAX_CPUS } from '../harness/fuzz/layout.ts';
import { opCount } from '../harness/fuzz/program.ts';
import { renderProgram } from '../harness/fuzz/render.ts';
import { replay } from '../harness/fuzz/replay.ts';
import { buildRepro, parseRepro, ReproError, type ReproFile, reproFileName } from '../harness/fuzz/repro.ts';
import { preemptions } from '../harness/fuzz/schedule-shrink.ts';
import { parseShard, type Shard, WHOLE } from '../harness/fuzz/shard.ts';
import {
  isModuleRepro,
  MODULE_REPRO_FORMAT,
  type ModuleRepro,
  ModuleReproError,
  parseModuleRepro,
} from '../harness/module/repro.ts';
import { guaranteeLabel } from '../harness/oracles/guarantees.ts';
import { strategyLine } from '../harness/schedule-report.ts';
import { STRESS_MUTANT_NAMES } from '../harness/stress-mutants.ts';
import { choice, duration, each, integer, moduleFile, moduleParam } from './args.ts';
import { addControlOptions, type ControlCliOptions, controlRequest } from './control-options.ts';
import { EXIT_OK, EXIT_VIOLATION, UsageError } from './errors.ts';
import { fuzzModuleCommand, replayModuleCommand } from './fuzz-module.ts';
import { checkOutputDir, checkWritable, writeOutput } from './output.ts';
import { onTermination } from './signals.ts';

interface FuzzCliOptions extends ControlCliOptions {
  cpus: number;
  runs?: number;
  duration?: number;
  seed?: number;
  inject?: string;
  out: string;
  shard: Shard;
  junit?: string;
  quiet: boolean;
  param?: [string, number][];
  jobs: number;
  shrink?: number;
}

/** More jobs than this would oversubscribe any host: each job is a machine of its own. */
const MAX_JOBS = 64;

const DEFAULT_DURATION_MS = 60_000;
/** After the first failure: shrinking it, and looking for a better one (a free-running one's controlled hunt gets two thirds). */
const DEFAULT_SHRINK_MS = 30_000;
/** Window of the "new pairs" figure in progress lines. */
const COVERAGE_WINDOW = 500;

const shardParser = (value: string): Shard => {
  try {
    return parseShard(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

function jobsProgressLine(p: JobsProgress): string {
  const secs = Math.max(p.elapsedMs / 1000, 0.001);
  const total = p.runs.reduce((a, b) => a + b, 0);
  const each = p.runs.map((r) => (r / secs).toFixed(0)).join(' + ');
  return `[${secs.toFixed(0).padStart(4)}s] runs ${total} (${(total / secs).toFixed(0)}/s: ${each} per job)`;
}

/** With --jobs: each job's shard and rate, and the total. */
function jobsLines(result: JobsResult): string[] {
  if (result.jobs.length <= 1) return [];
  const rate = (runs: number, ms: number): string => (runs / Math.max(ms / 1000, 0.001)).toFixed(0);
  const lines = result.jobs.map(
    (j) =>
      `  job ${j.job + 1} (shard ${j.shard.index}/${j.shard.count}): ${j.status}, ${j.programs} programs, ${j.runs} runs in ${(j.elapsedMs / 1000).toFixed(1)}s (${rate(j.runs, j.elapsedMs)} runs/s)`,
  );
  const sum = result.jobs.reduce((s, j) => s + Number(rate(j.runs, j.elapsedMs)), 0);
  return [`jobs: ${result.jobs.length} machines side by side, ${sum} runs/s in total`, ...lines, ''];
}

function progressLine(p: Progress): string {
  const rate = p.runs / Math.max(p.elapsedMs / 1000, 0.001);
  const phase = p.phase === 'shrink' ? `  shrinking: ${p.shrunkOps ?? '?'} ops` : '';
  const decisions = p.decisions === undefined ? '' : `  decisions ${p.decisions}`;
  return `[${(p.elapsedMs / 1000).toFixed(0).padStart(4)}s] runs ${p.runs} (${rate.toFixed(0)}/s)${decisions}  failures ${p.failures}  coverage ${p.coverage.seen.size}/${Coverage.possible} pairs (+${p.coverage.recentlyAdded(COVERAGE_WINDOW)} in the last ${Math.min(COVERAGE_WINDOW, p.coverage.runs)} runs)${phase}`;
}

export function describeRepro(repro: ReproFile): string {
  const v = repro.violation;
  const lines = [
    `VIOLATION ${v.guarantee !== null ? `of guarantee ${v.guarantee < 100 ? v.guarantee : guaranteeLabel(v.guarantee)} ` : ''}(${v.oracle}): ${v.message}`,
    `  machine: ${repro.cpus} CPUs, ${repro.inject ? `mutant ${repro.inject}` : 'real algorithm'}; delays ${repro.delays.permille}/1000 accesses up to ${repro.delays.maxUs}us (seed ${repro.delays.seed})`,
  ];
  if (repro.trace.events.length > 0) {
    lines.push(`  recent events of t${repro.trace.tasklet} (oldest first):`);
    for (const e of repro.trace.events)
      lines.push(`    ${e.kind.padEnd(11)} CPU${e.cpu}  schedule#${e.schedSeq}`);
  }
  const s = repro.schedule;
  if (s !== null)
    lines.push(
      `  schedule: ${s.strategy} seed ${s.seed}${s.strategy === 'pct' ? ` depth ${s.depth}` : ''}; ${s.steps} decisions; the log has ${preemptions(s.log).length} preemptions (shrunk from ${s.originalPreemptions}) and ${s.log.length / 4 - preemptions(s.log).length} forced switches`,
    );
  lines.push(`  minimal program (${repro.ops} ops):`, renderProgram(repro.program));
  return lines.join('\n');
}

function finalReport(
  result: JobsResult,
  opts: FuzzCliOptions,
  seed: number,
  reproPath: string | null,
): string {
  const secs = result.elapsedMs / 1000;
  const lines = [
    `tasklet-rt fuzz: ${result.status}: ${result.programs} programs, ${result.runs} runs in ${secs.toFixed(1)}s (${(result.runs / Math.max(secs, 0.001)).toFixed(0)} runs/s), seed ${seed}, ${result.jobs.length > 1 ? `${result.jobs.length} jobs` : `programs ${result.range.first}..${result.range.first + result.programs - 1}`}${opts.shard.count > 1 ? ` of shard ${opts.shard.index}/${opts.shard.count}` : ''}`,
    '',
    ...jobsLines(result),
    ...(result.schedule !== null && opts.controlled
      ? [
          strategyLine(controlRequest(opts, seed)!, opts.cpus, result.schedule.meanSteps),
          ...(opts.strategy === undefined
            ? [
                `  programs take ${FUZZ_STRATEGIES.join(' and ')} in turn by number (the bound above is the pct ones'; --strategy S gives all one)`,
              ]
            : []),
          `scheduling: ${result.schedule.decisions} decisions, ${Math.round(result.schedule.decisionsPerSecond)} per second of running programs`,
          '',
        ]
      : []),
    'interleaving coverage (programs in which two op kinds overlapped on different CPUs):',
    result.coverage.table(),
    `  ${result.coverage.summary(COVERAGE_WINDOW)}`,
  ];
  const f = result.failure;
  const h = result.hunt;
  if (h !== null) {
    const free = `${h.freeRate.failures}/${h.freeRate.runs}`;
    lines.push('', huntLine(h, free, result.failure));
  }
  if (f !== null && reproPath !== null) {
    const repro = buildRepro(f, seed, opts.cpus, opts.inject);
    lines.push(
      '',
      `${result.failures} failing program(s); the best: found after ${(f.foundAfterMs / 1000).toFixed(1)}s (${f.foundAfterRuns} runs), program #${f.index} (seed ${f.programSeed})`,
      `shrunk from ${opCount(f.original)} to ${opCount(f.program)} ops in ${f.shrinkSteps} steps (${(f.shrinkMs / 1000).toFixed(1)}s); reproduces ${f.reproduction.failures}/${f.reproduction.runs} runs`,
      describeRepro(repro),
      `repro file: ${reproPath}  (tasklet-rt replay ${reproPath})`,
    );
  }
  return lines.join('\n');
}

/** What the hunt for an exact repro of a free-running finding came to. */
function huntLine(h: NonNullable<CampaignResult['hunt']>, free: string, failure: Failure | null): string {
  const secs = `${(h.ms / 1000).toFixed(1)}s`;
  if (!h.found)
    return `free-running finding: no controlled schedule reproduced it in ${h.tries} tries (${secs}); the repro below is the free-running one, reproducing ${free} runs`;
  if (h.campaign === undefined)
    return `free-running finding (reproduced ${free} runs free-running): a controlled schedule reproduces it (${h.strategy} seed ${h.seed}, try ${h.tries}, ${secs}); the repro below is that exact one`;
  const what = h.campaign.other
    ? `broke another guarantee (${failure?.violation.oracle}) in its program #${failure?.index}`
    : `broke the same guarantee in its program #${failure?.index}`;
  return `free-running finding (${h.oracle}, reproduced ${free} runs free-running): no schedule of that program reproduced it in ${h.tries} tries; a controlled campaign on the same build then ${what} (${secs} in all); the repro below is that exact one`;
}

async function fuzzCommand(opts: FuzzCliOptions): Promise<number> {
  if (opts.runs !== undefined && opts.duration !== undefined)
    throw new UsageError('--runs and --duration cannot be combined; give one of them');
  checkOutputDir('--out', opts.out);
  checkWritable('--junit', opts.junit);
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const controlled = controlRequest(opts, seed);
  const strategies = controlled !== undefined && opts.strategy === undefined ? FUZZ_STRATEGIES : undefined;
  const durationMs = opts.runs === undefined ? (opts.duration ?? DEFAULT_DURATION_MS) : undefined;
  const log = (line: string): void => {
    if (!opts.quiet) process.stdout.write(`${line}\n`);
  };
  log(
    `tasklet-rt fuzz: ${opts.cpus} CPUs${opts.jobs > 1 ? ` × ${opts.jobs} jobs` : ''}, ${opts.runs !== undefined ? `${opts.runs} programs` : `${(durationMs ?? 0) / 1000}s`}, seed ${seed}${opts.shard.count > 1 ? `, shard ${opts.shard.index}/${opts.shard.count}` : ''}${opts.inject ? `, mutant ${opts.inject}` : ''}${controlled ? `, controlled (${strategies?.join(' and ') ?? controlled.strategy}${strategies ? ' in turn' : ''})` : ''}`,
  );
  const termination = onTermination();
  let signalled = false;
  termination.signalled.then(() => {
    signalled = true;
  });
  const result = await runJobs(
    {
      cpus: opts.cpus,
      seed,
      runs: opts.runs,
      durationMs,
      shard: opts.shard,
      inject: opts.inject,
      controlled,
      strategies,
      shrinkMs: opts.shrink ?? DEFAULT_SHRINK_MS,
      huntMs: opts.shrink ?? DEFAULT_SHRINK_MS,
      controlledHuntMs: Math.round(((opts.shrink ?? DEFAULT_SHRINK_MS) * 2) / 3),
      onProgress: (p) => log(progressLine(p)),
      interrupted: () => signalled,
    },
    opts.jobs,
    (p) => log(jobsProgressLine(p)),
  );
  termination.dispose();
  let reproPath: string | null = null;
  if (result.failure !== null) {
    const repro = buildRepro(result.failure, seed, opts.cpus, opts.inject);
    mkdirSync(resolve(opts.out), { recursive: true });
    reproPath = join(opts.out, reproFileName(repro));
    writeFileSync(reproPath, `${JSON.stringify(repro, null, 2)}\n`);
  }
  process.stdout.write(`\n${finalReport(result, opts, seed, reproPath)}\n`);
  const shard = opts.shard.count > 1 ? ` shard ${opts.shard.index}/${opts.shard.count}` : '';
  writeOutput(opts.junit, toJunit(result, `seed ${seed}${shard}`, reproPath));
  return termination.exitCode() ?? (result.failure !== null ? EXIT_VIOLATION : EXIT_OK);
}

function readRepro(file: string): ReproFile | ModuleRepro {
  let text: string;
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`replay ${file}: is a directory`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `replay ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'error'})`}`,
    );
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (isModuleRepro(json)) return parseModuleRepro(json);
  } catch (error) {
    if (error instanceof ModuleReproError) throw new UsageError(`replay ${file}: ${error.message}`);
    // Not JSON: parseRepro says so in its own words.
  }
  try {
    return parseRepro(text);
  } catch (error) {
    if (error instanceof ReproError) throw new UsageError(`replay ${file}: ${error.message}`);
    throw error;
  }
}

interface ReplayCliOptions extends ControlCliOptions {
  times: number;
  seed?: number;
}

async function replayCommand(file: string, opts: ReplayCliOptions): Promise<number> {
  const read = readRepro(file);
  if (read.format === MODULE_REPRO_FORMAT) {
    if (opts.controlled || opts.seed !== undefined)
      throw new UsageError(
        `replay ${file}: a module repro replays as it was recorded; drop --controlled and --seed`,
      );
    return replayModuleCommand(read, opts.times);
  }
  const repro = read;
  if (opts.seed !== undefined && !opts.controlled) throw new UsageError('--seed needs --controlled');
  const seed = opts.seed ?? repro.seed;
  const controlled = controlRequest(opts, seed);
  if (controlled !== undefined && repro.schedule !== null)
    throw new UsageError(
      `replay ${file}: it has a recorded schedule and replays it exactly; drop --controlled`,
    );
  const how =
    repro.schedule !== null
      ? 'following its decision log'
      : controlled !== undefined
        ? `under the controlled scheduler (${controlled.strategy}, seeds ${seed}..${seed + opts.times - 1})`
        : 'on freely running CPUs';
  process.stdout.write(`${describeRepro(repro)}\n\nreplaying ${opts.times} times ${how}...\n`);
  const result = await replay(repro, opts.times, controlled);
  const rate = `${result.reproduced}/${result.times}`;
  process.stdout.write(
    result.reproduced > 0
      ? `reproduced ${rate} runs (${repro.violation.oracle}): ${result.first?.message}\n`
      : `did not reproduce (0/${result.times} runs)\n`,
  );
  if (result.exact !== null)
    process.stdout.write(`${result.exact}/${result.times} runs made exactly the recorded decisions\n`);
  if (result.other.length > 0)
    process.stdout.write(
      `note: ${result.other.length} run(s) broke another oracle instead, e.g. ${result.other[0].oracle}: ${result.other[0].message}\n`,
    );
  return result.reproduced > 0 ? EXIT_VIOLATION : EXIT_OK;
}

export function registerFuzz(program: Command): void {
  const fuzz = program
    .command('fuzz')
    .description(
      "generate schedule/disable/kill programs, run them on all CPUs, shrink what fails; with MODULE, programs of your module's entry points",
    )
    .argument('[module]', 'a module file to fuzz (its defineModule declares a stimulus)', moduleFile('fuzz'))
    .addOption(
      new Option('--cpus <n>', `emulated CPUs (1-${FUZZ_MAX_CPUS})`)
        .argParser(integer('--cpus', 1, FUZZ_MAX_CPUS))
        .default(2),
    )
    .addOption(new Option('--runs <r>', 'programs to run').argParser(integer('--runs', 1, 1_000_000_000)))
    .addOption(
      new Option('--duration <d>', 'how long to run (30s, 10m; default 60s)').argParser(
        duration('--duration', 100),
      ),
    )
    .addOption(
      new Option('--seed <s>', 'campaign seed (default: random, printed)').argParser(
        integer('--seed', 0, 2 ** 32 - 1),
      ),
    )
    .addOption(
      new Option('--inject <mutant>', 'run on a broken variant of the algorithm').argParser(
        choice('--inject', STRESS_MUTANT_NAMES),
      ),
    )
    .option('--out <dir>', 'where repro files go', './fuzz-out')
    .addOption(
      new Option('--shard <i/n>', 'run the i-th of n disjoint parts of the campaign')
        .argParser(shardParser)
        .default(WHOLE, '1/1'),
    )
    .option('--junit <file>', 'write the result as JUnit XML')
    .addOption(
      new Option(
        '--jobs <n>',
        'run n machines side by side on disjoint programs; the first failure stops them all',
      )
        .argParser(integer('--jobs', 1, MAX_JOBS))
        .default(1),
    )
    .addOption(
      new Option(
        '--shrink <d>',
        'after the first failure, past --duration: how long to shrink it and look for a better one (default 30s; a module: 2m controlled, 30s and a 1m hunt free-running)',
      ).argParser(duration('--shrink')),
    )
    .option('--quiet', 'print only the final report', false)
    .addOption(
      new Option('--param <module.name=value...>', 'with MODULE: module parameters').argParser(
        each(moduleParam('--param')),
      ),
    );
  addControlOptions(fuzz).action(async (module: string | undefined, opts: FuzzCliOptions, cmd: Command) => {
    if (module !== undefined) {
      if (opts.jobs !== 1) throw new UsageError('--jobs is for the built-in fuzz, not for a module');
      checkOutputDir('--out', opts.out);
      process.exitCode = await fuzzModuleCommand(module, opts, cmd);
      return;
    }
    if (opts.param !== undefined) throw new UsageError('--param needs a MODULE (fuzz ./my-module.ts)');
    process.exitCode = await fuzzCommand(opts);
  });

  const replayCli = program
    .command('replay')
    .description('run a fuzz repro file again and say how often it reproduces')
    .argument('<file>', 'repro file written by tasklet-rt fuzz')
    .addOption(new Option('--times <k>', 'runs').argParser(integer('--times', 1, 100_000)).default(10))
    .addOption(
      new Option(
        '--seed <s>',
        "with --controlled: the first run's schedule seed (default: the file's)",
      ).argParser(integer('--seed', 0, 2 ** 32 - 1)),
    );
  addControlOptions(replayCli).action(async (file: string, opts: ReplayCliOptions) => {
    process.exitCode = await replayCommand(file, opts);
  });
}
