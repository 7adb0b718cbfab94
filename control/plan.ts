/** What a controlled run is asked to do: the options a user gives, and one run's schedule. */
import { availableParallelism } from 'node:os';
import type { ScheduleRules, StrategyName } from './block.ts';

export interface ControlledOptions {
  strategy: StrategyName;
  seed: number;
  /** PCT's bug depth d: d - 1 priority change points per run. Default 3. */
  depth?: number;
  /** Round-robin: decisions a CPU keeps running before the next one's turn. Default 1. */
  quantum?: number;
  /** PCT: the expected decisions per run (k), where the change points are drawn. Default 20000. */
  expectedSteps?: number;
  /** Decision log entries kept per run. Default 262144. */
  logCapacity?: number;
  /**
   * Decide by the rules of an older repro format (block.ts ScheduleRules), so that its decision
   * logs replay as recorded. Default SCHEDULE_RULES, this build's.
   */
  scheduleRules?: ScheduleRules;
  /**
   * How often a CPU waiting for the baton checks it before it sleeps. Default 2000: a hand-off
   * between two spinning threads then takes about a microsecond. Machines run side by side that
   * outnumber the host's cores do better with fewer (batonSpinsFor). No effect on the schedule.
   */
  batonSpins?: number;
}

/** One run's schedule: a strategy and seed, or a decision log to follow. */
export interface RunPlan extends ControlledOptions {
  /** Follow this log (flat, LOG_FIELDS numbers per switch) instead of the strategy. */
  replay?: number[];
  /** End the run (hand the baton to the controller for good) after this many decisions. */
  stepLimit?: number;
}

export const DEFAULT_DEPTH = 3;
export const DEFAULT_EXPECTED_STEPS = 20_000;
export const DEFAULT_BATON_SPINS = 2000;
const OVERSUBSCRIBED_BATON_SPINS = 200;

/**
 * The baton spins for `machines` controlled machines side by side (`--jobs`). Each keeps about
 * two threads busy, the baton holder and a waiter spinning for the next hand-off: past the
 * host's cores, the spinners take the cores the holders need (on 2 cores, two jobs at 2000
 * spins ran 347-422 programs/s in all against 420-522 for one; at 200 spins 472).
 */
export function batonSpinsFor(machines: number, hostCores = availableParallelism()): number | undefined {
  return machines * 2 > hostCores ? OVERSUBSCRIBED_BATON_SPINS : undefined;
}

/** `options` for one of `machines` controlled machines side by side: baton spins to match. */
export function sideBySide(options: ControlledOptions, machines: number): ControlledOptions {
  return { ...options, batonSpins: options.batonSpins ?? batonSpinsFor(machines) };
}

/**
 * The strategies a controlled fuzz campaign gives its programs in turn when none is asked for:
 * PCT finds bugs that need few, well-placed preemptions; random ones that need a preemption
 * between two neighbouring accesses (a lost update), which PCT's few change points seldom hit.
 */
export const FUZZ_STRATEGIES: readonly StrategyName[] = ['pct', 'random'];

/**
 * The schedules a hunt tries in turn, each with a fresh seed, when it looks for a controlled run
 * that reproduces a free-running failure (fuzz and stress alike).
 */
export const HUNT_STRATEGIES: readonly Omit<ControlledOptions, 'seed'>[] = [
  { strategy: 'pct', depth: 3 },
  { strategy: 'random' },
  { strategy: 'pct', depth: 5 },
  { strategy: 'pct', depth: 2 },
  { strategy: 'rr', quantum: 1 },
];
