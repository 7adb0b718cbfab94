/**
 * The checks around the API calls (G3, G9, G10 of docs/semantics.md, and the bookkeeping G4
 * and G15 need at the drain), run on the CPU that makes the call. Pure functions of the shadow
 * words and what the caller observed.
 */
import { type Violation, violation } from './guarantees.ts';
import {
  F_DISABLED,
  F_INSIDE,
  F_OWNER,
  F_OWNER_EPOCH,
  F_SCHED_SEQ,
  F_SCHED_WHILE_RUNNING,
  F_TRACE_ENTRIES,
  F_TRYLOCKS,
  INSIDE_TRYLOCK,
  insideCpu,
  insideWhat,
  tw,
} from './shadow.ts';

/** Right before tasklet_schedule/tasklet_hi_schedule; returns the schedule's number. */
export function on_schedule_start(sh: Int32Array, i: number): number {
  return Atomics.add(sh, tw(i, F_SCHED_SEQ), 1) + 1;
}

/** After tasklet_schedule/tasklet_hi_schedule returned. */
export function on_schedule_return(
  sh: Int32Array,
  i: number,
  cpu: number,
  seq: number,
  offlineCount: number,
): void {
  if (Atomics.load(sh, tw(i, F_INSIDE)) !== 0) Atomics.store(sh, tw(i, F_SCHED_WHILE_RUNNING), seq);
  const owner = Atomics.load(sh, tw(i, F_OWNER)) - 1;
  if (owner === cpu) Atomics.compareExchange(sh, tw(i, F_OWNER_EPOCH), 0, offlineCount + 1);
  // Scheduled elsewhere (its callback rescheduling it on the CPU that took it over): the pending
  // entry may be on that CPU's queue, so the next run is exempt whoever else schedules it.
  else if (owner >= 0) Atomics.store(sh, tw(i, F_OWNER_EPOCH), -1);
}

/** After a waiting disable (tasklet_disable, nosync + unlock_wait, in_atomic) returned. Check 9. */
export function on_disable_return(
  sh: Int32Array,
  i: number,
  cpu: number,
  trylocksBefore = -1,
): Violation | null {
  const inside = Atomics.load(sh, tw(i, F_INSIDE));
  Atomics.add(sh, tw(i, F_DISABLED), 1);
  if (inside === 0) return null;
  // The disable waits for a RUN holder that was there when it began: a tasklet_trylock may win
  // once its wait has seen RUN clear. With `trylocksBefore` (F_TRYLOCKS before the call) a
  // holder is judged only if no trylock has won since.
  if (
    (inside & INSIDE_TRYLOCK) !== 0 &&
    trylocksBefore >= 0 &&
    Atomics.load(sh, tw(i, F_TRYLOCKS)) !== trylocksBefore
  )
    return null;
  return violation(
    'disable-waits',
    i,
    [cpu, insideCpu(inside)],
    `tasklet_disable returned on CPU${cpu} while ${insideWhat(inside)}`,
  );
}

/** Right before tasklet_enable undoes a checked disable. */
export function before_enable(sh: Int32Array, i: number): void {
  Atomics.sub(sh, tw(i, F_DISABLED), 1);
}

/** After tasklet_kill returned; `state` is t->state read right then. Check 10. */
export function on_kill_return(sh: Int32Array, i: number, cpu: number, state: number): Violation | null {
  const inside = Atomics.load(sh, tw(i, F_INSIDE));
  if (inside !== 0) {
    return violation(
      'kill',
      i,
      [cpu, insideCpu(inside)],
      `tasklet_kill returned on CPU${cpu} while ${insideWhat(inside)}`,
    );
  }
  if (state !== 0)
    return violation('kill', i, [cpu], `tasklet_kill returned on CPU${cpu} with state ${state} (expected 0)`);
  return null;
}

/** A trace oracle event: tasklet_entry seen for index i. */
export function on_trace_entry(sh: Int32Array, i: number): void {
  Atomics.add(sh, tw(i, F_TRACE_ENTRIES), 1);
}
