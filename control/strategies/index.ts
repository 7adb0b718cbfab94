/** The strategies by id (the control block's I_STRATEGY word) and by the name a user gives. */
import { type ControlBlock, I_STRATEGY, type StrategyName } from '../block.ts';
import type { RunPlan } from '../plan.ts';
import type { SchedulingStrategy } from '../strategy.ts';
import { pct } from './pct.ts';
import { random } from './random.ts';
import { replay } from './replay.ts';
import { roundRobin } from './round-robin.ts';

/** Indexed by Strategy. */
const BY_ID: readonly SchedulingStrategy[] = [random, pct, roundRobin, replay];
const BY_NAME: Record<StrategyName, SchedulingStrategy> = { random, pct, rr: roundRobin };

/** The strategy of the run in progress. */
export function current_strategy(b: ControlBlock): SchedulingStrategy {
  return BY_ID[b.i32[I_STRATEGY]];
}

/** The strategy a plan asks for: its log when it has one, else its named strategy. */
export function strategy_for(plan: RunPlan): SchedulingStrategy {
  return plan.replay !== undefined ? replay : BY_NAME[plan.strategy];
}
