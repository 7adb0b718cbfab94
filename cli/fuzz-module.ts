/**
 * `tasklet-rt fuzz MODULE` and `tasklet-rt replay` of a module repro. fuzz: exit 0 clean, 1 a
 * finding (shrunk, repro written), 2 bad usage or a bad stimulus declaration. replay: exit 1
 * if the finding reproduced at least once, 0 if never.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { FUZZ_STRATEGIES } from '../control/plan.ts';
import { findingOf, fuzzModule, type ModuleFinding, type ModuleFuzzOptions } from '../harness/module/fuzz.ts';
import { programSchedule } from '../harness/module/fuzz-run.ts';
import { huntModuleSchedule, type ModuleHunt } from '../harness/module/hunt.ts';
import { renderProgram } from '../harness/module/program.ts';
import { buildModuleRepro, type ModuleRepro, replayModule } from '../harness/module/repro.ts';
import { StimulusError } from '../harness/module/stimulus.ts';
import { describeViolation } from '../harness/stress/report.ts';
import { paramRecord } from './args.ts';
import { type ControlCliOptions, controlRequest } from './control-options.ts';
import { EXIT_OK, EXIT_VIOLATION, UsageError } from './errors.ts';
import { onTermination } from './signals.ts';

export interface FuzzModuleCliOptions extends ControlCliOptions {
  cpus: number;
  runs?: number;
  duration?: number;
  seed?: number;
  out: string;
  quiet: boolean;
  param?: [string, number][];
  /** After a finding: the shrink budget, and the free-running hunt's. */
  shrink?: number;
}

const BUILTIN_ONLY: Record<string, string> = { inject: '--inject', shard: '--shard', junit: '--junit' };
const DEFAULT_DURATION_MS = 60_000;
/**
 * Free-running, a finding is shrunk for at most FREE_SHRINK_MS (a race this narrow seldom fails
 * twice in a row, so shrinking gains little), then hunted for up to HUNT_MS: a controlled
 * schedule that reproduces it is shrunk again, deterministically, and replays exactly.
 */
const FREE_SHRINK_MS = 30_000;
const HUNT_MS = 60_000;

export function describeModuleRepro(repro: ModuleRepro): string {
  const s = repro.schedule;
  return [
    describeViolation(repro.violation, repro.schedule !== null),
    `  machine: ${repro.cpus} CPUs, module ${repro.moduleAsGiven}${
      Object.keys(repro.params).length > 0
        ? ` (${Object.entries(repro.params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')})`
        : ''
    }`,
    s === null
      ? '  schedule: free-running (replays at a rate, not exactly)'
      : `  schedule: ${s.strategy} seed ${s.seed}${s.strategy === 'pct' ? ` depth ${s.depth ?? 3}` : ''}; ${s.steps} decisions, ${s.log.length / 4} switches in the log`,
    `  minimal program (${repro.program.steps.length} ${repro.program.steps.length === 1 ? 'step' : 'steps'}, shrunk from ${repro.originalSteps}):`,
    repro.program.steps.length > 0
      ? renderProgram(repro.program)
      : '    (none: init, probe, drain, remove, exit alone)',
  ].join('\n');
}

export async function fuzzModuleCommand(
  path: string,
  opts: FuzzModuleCliOptions,
  cmd: Command,
): Promise<number> {
  const display = relative(process.cwd(), path) || path;
  for (const [key, flag] of Object.entries(BUILTIN_ONLY))
    if (cmd.getOptionValueSource(key) === 'cli')
      throw new UsageError(`${flag} is for the built-in fuzz, not for a module (fuzz ${display})`);
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const controlled = controlRequest(opts, seed);
  const strategies = controlled !== undefined && opts.strategy === undefined ? FUZZ_STRATEGIES : undefined;
  const params = paramRecord(opts.param);
  const huntMs = opts.shrink ?? HUNT_MS;
  const log = (line: string): void => {
    if (!opts.quiet) process.stdout.write(`${line}\n`);
  };
  const termination = onTermination();
  let interrupted = false;
  void termination.signalled.then(() => {
    interrupted = true;
  });
  let lastLine = 0;
  let result: Awaited<ReturnType<typeof fuzzModule>>;
  let hunted: { hunt: ModuleHunt; finding: ModuleFinding | null } | null = null;
  const options: ModuleFuzzOptions = {
    file: path,
    cpus: opts.cpus,
    params,
    controlled,
    strategies,
    seed,
    durationMs: opts.duration ?? DEFAULT_DURATION_MS,
    runs: opts.runs,
    shrinkMs: opts.shrink ?? (controlled === undefined ? FREE_SHRINK_MS : undefined),
    interrupted: () => interrupted,
    onProgress: (p) => {
      if (p.elapsedMs - lastLine < 1000) return;
      lastLine = p.elapsedMs;
      log(
        `[${(p.elapsedMs / 1000).toFixed(0).padStart(4)}s] ${p.phase === 'shrink' ? 'shrinking: ' : ''}programs ${p.runs}`,
      );
    },
  };
  try {
    result = await fuzzModule(options);
    if (result.finding !== null && controlled === undefined && !interrupted) {
      log(
        `free-running finding: hunting for a controlled schedule that reproduces it (up to ${huntMs / 1000}s)`,
      );
      hunted = await huntModuleSchedule(options, result.finding, huntMs);
    }
  } catch (error) {
    if (error instanceof StimulusError) throw new UsageError(`${display}: ${error.message}`);
    throw error;
  } finally {
    termination.dispose();
  }
  const secs = result.elapsedMs / 1000;
  const lines = [
    '',
    `tasklet-rt fuzz ${display}: ${result.status}: ${result.programs} programs in ${secs.toFixed(1)}s (a fresh machine each), seed ${seed}`,
  ];
  if (controlled !== undefined)
    lines.push(
      `  controlled: ${strategies ? `strategies ${strategies.join(' and ')} in turn (by the program's seed)` : `strategy ${controlled.strategy}`}${controlled.strategy === 'pct' ? `, pct depth ${controlled.depth ?? 3}` : ''}; each program's schedule is seeded by its own seed`,
    );
  if (hunted !== null) lines.push(huntLine(hunted.hunt));
  const f = hunted?.finding ?? result.finding;
  if (f !== null) {
    const schedule = hunted?.finding ? hunted.hunt.controlled : programSchedule(options, f.program);
    const repro = buildModuleRepro(f, { file: path, display, cpus: opts.cpus, params, seed }, schedule);
    mkdirSync(opts.out, { recursive: true });
    const v = findingOf(f.outcome)!;
    const file = join(
      opts.out,
      `repro-${display.replace(/[^\w.-]+/g, '_')}-${v.oracle}-s${seed}-p${f.index}.json`,
    );
    writeFileSync(file, `${JSON.stringify(repro, null, 2)}\n`);
    lines.push(
      `found after ${(f.foundAfterMs / 1000).toFixed(1)}s, program #${f.index}; shrunk from ${f.original.steps.length} to ${f.program.steps.length} ${f.program.steps.length === 1 ? 'step' : 'steps'} in ${f.shrinkRuns} runs (${(f.shrinkMs / 1000).toFixed(1)}s)`,
      describeModuleRepro(repro),
      `repro file: ${file}  (tasklet-rt replay ${file})`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return termination.exitCode() ?? (f !== null ? EXIT_VIOLATION : EXIT_OK);
}

function huntLine(hunt: ModuleHunt): string {
  const took = `${hunt.tries} ${hunt.tries === 1 ? 'try' : 'tries'}, ${(hunt.ms / 1000).toFixed(1)}s`;
  if (!hunt.found || hunt.controlled === undefined)
    return `free-running finding: no controlled schedule reproduced it (${took}); the repro below is the free-running one, and it depends on timing`;
  const { strategy, seed } = hunt.controlled;
  return `free-running finding: a controlled schedule reproduces it (${strategy} seed ${seed}, ${took}); ${
    hunt.exact
      ? 'the repro below is that exact one'
      : 'WARNING: its check run differed (report this as a determinism bug)'
  }`;
}

export async function replayModuleCommand(repro: ModuleRepro, times: number): Promise<number> {
  process.stdout.write(
    `${describeModuleRepro(repro)}\n\nreplaying ${times} times ${repro.schedule !== null ? 'following its decision log' : 'on freely running CPUs'}...\n`,
  );
  const result = await replayModule(repro, times);
  process.stdout.write(
    result.reproduced > 0
      ? `reproduced ${result.reproduced}/${times} runs (${repro.violation.oracle}): ${result.first?.message.split('\n')[0]}\n`
      : `did not reproduce (0/${times} runs)\n`,
  );
  if (result.exact !== null)
    process.stdout.write(`${result.exact}/${times} runs made exactly the recorded decisions\n`);
  if (result.other.length > 0)
    process.stdout.write(
      `note: ${result.other.length} run(s) found something else, e.g. ${result.other[0].oracle}: ${result.other[0].message.split('\n')[0]}\n`,
    );
  return result.reproduced > 0 ? EXIT_VIOLATION : EXIT_OK;
}
