/**
 * The checks at a drain point, when nothing is queued or running (G3, G4, G11, G15 of
 * docs/semantics.md): pure functions of the shadow words and the state words read then.
 */
import { type Violation, violation } from './guarantees.ts';
import { F_COVERED, F_RUNS, F_SCHED_SEQ, F_SCHED_WHILE_RUNNING, F_TRACE_ENTRIES, tw } from './shadow.ts';

/**
 * At a drain point (nothing new is scheduled, every queue has emptied, nothing runs): checks
 * 3, 4, 11 and 15 for one tasklet. `state` is t->state, read now.
 */
export function at_drain(sh: Int32Array, i: number, state: number): Violation | null {
  const seq = Atomics.load(sh, tw(i, F_SCHED_SEQ));
  const covered = Atomics.load(sh, tw(i, F_COVERED));
  if (covered < seq) {
    const whileRunning = Atomics.load(sh, tw(i, F_SCHED_WHILE_RUNNING));
    if (whileRunning > covered) {
      return violation(
        'schedule-while-running',
        i,
        [],
        `scheduled while its callback ran (schedule #${whileRunning}) and never ran again`,
      );
    }
    return violation('at-least-once', i, [], `tasklet_schedule #${seq} returned but no run started after it`);
  }
  if (state !== 0)
    return violation('structure', i, [], `state ${state} after the machine drained (expected 0)`);
  const runs = Atomics.load(sh, tw(i, F_RUNS));
  const entries = Atomics.load(sh, tw(i, F_TRACE_ENTRIES));
  if (entries !== runs) return violation('trace', i, [], `${runs} runs but ${entries} tasklet_entry events`);
  return null;
}

/** Any "tasklet SCHED state not set" warning: a tasklet was queued without SCHED. Check 11. */
export function check_warnings(warnings: number): Violation | null {
  if (warnings === 0) return null;
  return violation(
    'structure',
    -1,
    [],
    `${warnings} kernel warning(s): a queued tasklet was found without SCHED (or another WARN fired)`,
  );
}

/**
 * The first of `count` tasklets (in index order) whose drain-time checks fail: at_drain on its
 * state word, then the harness's own `more` check. Null when every one passes.
 */
export function first_drain_violation<V extends { message: string } = Violation>(
  sh: Int32Array,
  count: number,
  state: (i: number) => number,
  more: (i: number) => V | null = () => null,
): { index: number; violation: Violation | V } | null {
  for (let i = 0; i < count; i++) {
    const found = at_drain(sh, i, state(i)) ?? more(i);
    if (found !== null) return { index: i, violation: found };
  }
  return null;
}
