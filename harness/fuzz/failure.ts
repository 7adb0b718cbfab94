/** A campaign's finding: the program that failed, its shrunk form, and how well it reproduces. */
import type { RunPlan } from '../../control/driver.ts';
import type { DelayPlan } from './injection.ts';
import type { FuzzViolation } from './oracles.ts';
import { opCount, type Program } from './program.ts';

/** A controlled failure's schedule: the plan it ran under and the log that replays it. */
export interface FailureSchedule {
  plan: RunPlan;
  /** The (shrunk) decision log, flat. */
  log: number[];
  steps: number;
  preemptions: number;
  /** Preemptions before the log was shrunk. */
  originalPreemptions: number;
  shrinkRuns: number;
}

export interface Failure {
  /** Program number in the campaign, and the seed fast-check generated it from. */
  index: number;
  programSeed: number;
  delays: DelayPlan;
  original: Program;
  program: Program;
  violation: FuzzViolation;
  foundAfterMs: number;
  foundAfterRuns: number;
  shrinkSteps: number;
  shrinkMs: number;
  reproduction: { runs: number; failures: number };
  schedule: FailureSchedule | null;
}

/** A finding worth stopping at: reproduces at least half the time, in at most this many ops. */
const GOOD_OPS = 10;

const rate = (f: Failure): number => f.reproduction.failures / Math.max(1, f.reproduction.runs);
export const good = (f: Failure): boolean => rate(f) >= 0.5 && opCount(f.program) <= GOOD_OPS;
/** Lower is better: reliable first, then small, then more reliable. */
export const score = (f: Failure): number => (rate(f) >= 0.5 ? 0 : 1000) + opCount(f.program) - rate(f);
