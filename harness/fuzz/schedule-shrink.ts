/**
 * Shrinking a controlled failure's decision log: drop preemptions (switches away from a CPU
 * that could have gone on), halves first and then single ones, as long as the failure stays.
 * A candidate log is replayed; where it no longer says anything the running CPU keeps going,
 * so the recorded log of a failing replay is complete and never has more preemptions.
 */
import { FORCED_BIT, L_TO, LOG_FIELDS } from '../../control/block.ts';
import type { ScheduleOutcome } from './executor.ts';
import type { FuzzViolation } from './oracles.ts';

export type ReplayRun = (
  log: number[],
) => Promise<{ violation: FuzzViolation | null; schedule?: ScheduleOutcome }>;

export interface ScheduleShrink {
  log: number[];
  /** Preemptions in the log before and after. */
  from: number;
  to: number;
  runs: number;
}

/** Indexes (entry numbers) of the preemptions in a log. */
export function preemptions(log: number[]): number[] {
  const found: number[] = [];
  for (let e = 0; e * LOG_FIELDS < log.length; e++)
    if ((log[e * LOG_FIELDS + L_TO] & FORCED_BIT) === 0) found.push(e);
  return found;
}

function without(log: number[], drop: Set<number>): number[] {
  const kept: number[] = [];
  for (let e = 0; e * LOG_FIELDS < log.length; e++)
    if (!drop.has(e)) kept.push(...log.slice(e * LOG_FIELDS, (e + 1) * LOG_FIELDS));
  return kept;
}

export async function shrinkSchedule(
  log: number[],
  oracle: string,
  replay: ReplayRun,
  expired: () => boolean,
): Promise<ScheduleShrink> {
  const from = preemptions(log).length;
  let best = log;
  let runs = 0;
  let chunk = Math.max(1, Math.ceil(from / 2));
  for (;;) {
    let progressed = false;
    for (let start = 0; start < preemptions(best).length && !expired(); ) {
      const drop = new Set(preemptions(best).slice(start, start + chunk));
      const outcome = await replay(without(best, drop));
      runs++;
      if (outcome.violation?.oracle === oracle && outcome.schedule !== undefined) {
        best = outcome.schedule.log;
        progressed = true;
      } else {
        start += chunk;
      }
    }
    if (expired() || (chunk === 1 && !progressed)) break;
    if (!progressed) chunk = Math.max(1, Math.floor(chunk / 2));
  }
  return { log: best, from, to: preemptions(best).length, runs };
}
