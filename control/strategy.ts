/**
 * The interface every scheduling strategy implements (one file each in strategies/). A
 * strategy's state lives in the control block, so any thread that holds the baton can decide.
 *
 * `begin` runs on the controller when a run starts; `stepped` and `pick` run on whichever thread
 * holds the baton, at each decision, and must be pure over the block (every thread decides alike).
 */
import type { ControlBlock, Strategy } from './block.ts';
import type { RunPlan } from './plan.ts';

export interface SchedulingStrategy {
  readonly id: Strategy;
  /**
   * How the fairness rule (decide.ts) meets the pick: 'first' decides before the strategy is
   * asked (a seeded strategy draws nothing then); 'after' always asks the strategy, then lets
   * fairness override its pick where `fairAfter` allows (a replay consumes its log either way).
   */
  readonly fair: 'first' | 'after';
  fairAfter?(b: ControlBlock): boolean;
  /** Writes this strategy's state for a new run; `rand` is the plan's own seeded generator. */
  begin(b: ControlBlock, plan: RunPlan, rand: () => number): void;
  /** The baton holder `me` made its decision number `steps` (before the pick). */
  stepped?(b: ControlBlock, me: number, steps: number): void;
  /**
   * Who runs next among the `n` enabled CPUs in `candidates.cpus` (all of the best class).
   * `meRunnable`: `me` is one of them; `meStep` counts `me`'s own decisions in this run.
   */
  pick(b: ControlBlock, n: number, me: number, meRunnable: boolean, meStep: number, nrCpus: number): number;
}
