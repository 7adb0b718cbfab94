/**
 * `fuzz MODULE`: programs of the module's entry points (program.ts), each on a fresh machine
 * (fuzz-run.ts), checked by the harness's oracles, until one fails or the time is up. The
 * first program is the empty one (init, probe, drain, remove, exit alone); the rest come from
 * fast-check, seeded by the campaign seed. A failing program is shrunk by fast-check (given as
 * an example of the same arbitrary): a candidate counts only if it fails with the same finding.
 * Controlled runs are deterministic, so a candidate runs once and the result replays exactly.
 */
import fc from 'fast-check';
import type { ControlledOptions } from '../../control/driver.ts';
import type { ViolationReport } from '../stress/result.ts';
import { findingKey, type ProgramMachine, type ProgramOutcome, runModuleProgram } from './fuzz-run.ts';
import { type ModuleProgram, programArb } from './program.ts';

export interface ModuleFuzzOptions extends ProgramMachine {
  seed: number;
  durationMs: number;
  /** Programs at most (default: as many as the duration allows). */
  runs?: number;
  /** Time shrinking may take after a find. Default 120 s. */
  shrinkMs?: number;
  onProgress?: (p: { runs: number; elapsedMs: number; phase: 'search' | 'shrink'; steps?: number }) => void;
  interrupted?: () => boolean;
}

export interface ModuleFinding {
  /** The program as generated, and as shrunk. */
  original: ModuleProgram;
  program: ModuleProgram;
  outcome: ProgramOutcome;
  index: number;
  foundAfterMs: number;
  shrinkRuns: number;
  shrinkMs: number;
}

export interface ModuleFuzzResult {
  status: 'clean' | 'found' | 'interrupted';
  programs: number;
  elapsedMs: number;
  finding: ModuleFinding | null;
  controlled: ControlledOptions | undefined;
}

const DEFAULT_SHRINK_MS = 120_000;

/** A finding: an oracle's violation, or the fault the machine ended with. */
export function findingOf(outcome: ProgramOutcome): ViolationReport | null {
  if (outcome.violation !== null) return outcome.violation;
  if (outcome.fault === null) return null;
  return {
    oracle: 'kernel-report',
    guarantee: 0,
    tasklet: -1,
    cpus: [],
    message: `fault: ${outcome.fault}`,
    name: 'fault',
    events: [],
    atMs: 0,
  };
}

export async function fuzzModule(options: ModuleFuzzOptions): Promise<ModuleFuzzResult> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const maxRuns = options.runs ?? Number.POSITIVE_INFINITY;
  let programs = 0;
  const empty: ModuleProgram = { seed: options.seed, steps: [] };
  let program = empty;
  let outcome = await runModuleProgram(options, empty);
  programs++;
  const arb = programArb(outcome.stimulus, options.cpus);
  // Deterministic from the campaign seed: program k is the k-th value of this stream.
  const stream = fc.sample(arb, { seed: options.seed, numRuns: 2000 });
  while (
    findingOf(outcome) === null &&
    programs < maxRuns &&
    elapsed() < options.durationMs &&
    !options.interrupted?.()
  ) {
    program = stream[(programs - 1) % stream.length];
    outcome = await runModuleProgram(options, program);
    programs++;
    options.onProgress?.({ runs: programs, elapsedMs: elapsed(), phase: 'search' });
  }
  const found = findingOf(outcome);
  if (found === null)
    return {
      status: options.interrupted?.() ? 'interrupted' : 'clean',
      programs,
      elapsedMs: elapsed(),
      finding: null,
      controlled: options.controlled,
    };
  const foundAfterMs = elapsed();
  const shrunk = await shrinkModuleProgram(options, program, outcome, findingKey(found), () => {
    programs++;
    options.onProgress?.({ runs: programs, elapsedMs: elapsed(), phase: 'shrink' });
  });
  return {
    status: 'found',
    programs,
    elapsedMs: elapsed(),
    finding: {
      original: program,
      program: shrunk.program,
      outcome: shrunk.outcome,
      index: programs - shrunk.runs - 1,
      foundAfterMs,
      shrinkRuns: shrunk.runs,
      shrinkMs: elapsed() - foundAfterMs,
    },
    controlled: options.controlled,
  };
}

/** fast-check's shrinker on the failing program: the smallest that fails with the same finding. */
export async function shrinkModuleProgram(
  options: ModuleFuzzOptions,
  failing: ModuleProgram,
  failingOutcome: ProgramOutcome,
  key: string,
  onRun: () => void,
): Promise<{ program: ModuleProgram; outcome: ProgramOutcome; runs: number }> {
  if (failing.steps.length === 0) return { program: failing, outcome: failingOutcome, runs: 0 };
  let best = { program: failing, outcome: failingOutcome };
  let runs = 0;
  const deadline = performance.now() + (options.shrinkMs ?? DEFAULT_SHRINK_MS);
  let first = true;
  const same = async (candidate: ModuleProgram): Promise<boolean> => {
    // The failing program itself comes first (the example): it was already run.
    if (first) {
      first = false;
      return false;
    }
    if (performance.now() > deadline || options.interrupted?.()) return true; // out of time: keep what we have
    runs++;
    onRun();
    const outcome = await runModuleProgram(options, candidate);
    const finding = findingOf(outcome);
    if (finding === null || findingKey(finding) !== key) return true;
    if (candidate.steps.length <= best.program.steps.length) best = { program: candidate, outcome };
    return false;
  };
  await fc.check(fc.asyncProperty(programArb(failingOutcome.stimulus, options.cpus), same), {
    examples: [[failing]],
    numRuns: 1,
    seed: options.seed,
  });
  // Then one step at a time, as long as one can go (fast-check's shrinks of a given example
  // do not try every single deletion).
  for (let i = best.program.steps.length - 1; i >= 0 && best.program.steps.length > 1; i--) {
    const steps = best.program.steps.filter((_, k) => k !== i);
    await same({ ...best.program, steps });
  }
  return { ...best, runs };
}
