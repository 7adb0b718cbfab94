/**
 * Oracles the fuzzer adds to the shared ones (harness/oracles/): checks a program implies (run
 * counts, HI before TASKLET after a section) and the kill bookkeeping that lets the shared kill
 * check judge kills racing with schedules. Pure functions of the shared words, like those.
 */
import type { OracleName } from '../oracles/guarantees.ts';
import { F_COVERED, F_NO_SCHED, F_RUNS, F_SCHED_SEQ, type RecentEvent, tw } from '../oracles/shadow.ts';
import {
  X_KILL_COVERED,
  X_KILL_SEQ,
  X_ORDER_FIRST,
  X_ORDER_RUNS,
  X_ORPHAN_KILLS,
  X_ORPHAN_SEQ,
  X_PROBE_OF,
  xw,
} from './layout.ts';

export type FuzzOracle = OracleName | 'run-count' | 'hang' | 'oops';

export interface FuzzViolation {
  oracle: FuzzOracle;
  /** The guarantee of docs/semantics.md it breaks, where one applies. */
  guarantee: number | null;
  /** Program tasklet number, -1 for the machine. */
  tasklet: number;
  cpus: number[];
  message: string;
  /** Recent events of the tasklet, oldest first. */
  events?: RecentEvent[];
}

/**
 * Inside a section, after its schedules: the next run of normal tasklet `n` must come after a
 * run of HI tasklet `h` (both pending, no pass possible until the section ends).
 */
export function on_order_mark(sh: Int32Array, words: Int32Array, h: number, n: number): void {
  Atomics.store(words, xw(n, X_ORDER_RUNS), Atomics.load(sh, tw(h, F_RUNS)));
  Atomics.store(words, xw(n, X_ORDER_FIRST), h + 1);
}

/** At a run start of `n` (before on_run_start counts it). Check 7. */
export function on_order_check(
  sh: Int32Array,
  words: Int32Array,
  n: number,
  cpu: number,
  disabled: (t: number) => boolean,
): FuzzViolation | null {
  const h = Atomics.exchange(words, xw(n, X_ORDER_FIRST), 0) - 1;
  if (h < 0) return null;
  if (Atomics.load(sh, tw(h, F_RUNS)) !== Atomics.load(words, xw(n, X_ORDER_RUNS))) return null;
  // A HI tasklet its CPU disabled before this pass was requeued, not skipped: no process
  // context ran on this CPU between the HI and the TASKLET vector of the pass.
  if (disabled(h)) return null;
  return {
    oracle: 'order',
    guarantee: 7,
    tasklet: n,
    cpus: [cpu],
    message: `TASKLET work t${n} ran on CPU${cpu} before HI work t${h} that was pending at the same pass`,
  };
}

/**
 * After tasklet_kill returned: schedules that started before now may have coalesced into the
 * SCHED bit the kill held, and owe no run. Kept apart from F_COVERED (an atomic max in our own
 * word), because a run start on another CPU updates F_COVERED with a plain load and store.
 */
export function on_kill_covers(sh: Int32Array, words: Int32Array, i: number): void {
  const seq = Atomics.load(sh, tw(i, F_SCHED_SEQ));
  for (let now = Atomics.load(words, xw(i, X_KILL_COVERED)); now < seq; ) {
    const seen = Atomics.compareExchange(words, xw(i, X_KILL_COVERED), now, seq);
    if (seen === now) break;
    now = seen;
  }
}

/** At the drain, before at_drain: what kills covered counts as covered. */
export function merge_kill_coverage(sh: Int32Array, words: Int32Array, i: number): void {
  const killed = Atomics.load(words, xw(i, X_KILL_COVERED));
  if (Atomics.load(sh, tw(i, F_COVERED)) < killed) Atomics.store(sh, tw(i, F_COVERED), killed);
}

/** Counters around a kill: schedules and other kills that may have overlapped it. */
export interface KillWindow {
  schedulesInFlight: number;
  scheduleSeq: number;
  /** Kills in flight, this one not counted. */
  killsInFlight: number;
  killSeq: number;
}

/**
 * The shared kill check (state 0, not running) holds only when nothing that
 * sets SCHED overlapped the kill: no schedule and no other kill (which holds SCHED while it
 * waits) in flight when it began or ended, none started meanwhile.
 */
export function kill_check_applies(start: KillWindow, end: KillWindow): boolean {
  return (
    start.schedulesInFlight === 0 &&
    end.schedulesInFlight === 0 &&
    start.scheduleSeq === end.scheduleSeq &&
    start.killsInFlight === 0 &&
    end.killsInFlight === 0 &&
    start.killSeq === end.killSeq
  );
}

/**
 * At the end of a program, the machine drained: a run needs a schedule call (runs never exceed
 * calls), and where the program determines the count, it is exact.
 */
export function at_program_end(sh: Int32Array, i: number, expected: number | null): FuzzViolation | null {
  const runs = Atomics.load(sh, tw(i, F_RUNS));
  const calls = Atomics.load(sh, tw(i, F_SCHED_SEQ));
  if (runs > calls)
    return {
      oracle: 'run-count',
      guarantee: 2,
      tasklet: i,
      cpus: [],
      message: `t${i} ran ${runs} times but was scheduled only ${calls} times`,
    };
  if (expected !== null && runs !== expected)
    return {
      oracle: 'run-count',
      guarantee: runs < expected ? 4 : 2,
      tasklet: i,
      cpus: [],
      message: `t${i} ran ${runs} times; the program implies exactly ${expected} (each schedule is followed by a kill)`,
    };
  return null;
}

/** Just after the orphan op re-initialised queued tasklet `t` and before it queues `probe` behind it. */
export function on_orphaned(sh: Int32Array, words: Int32Array, t: number, probe: number): void {
  Atomics.store(sh, tw(t, F_NO_SCHED), 1);
  Atomics.store(words, xw(t, X_ORPHAN_SEQ), Atomics.load(sh, tw(t, F_SCHED_SEQ)));
  Atomics.store(words, xw(t, X_ORPHAN_KILLS), Atomics.load(words, xw(t, X_KILL_SEQ)) + 1);
  Atomics.store(words, xw(probe, X_PROBE_OF), t + 1);
}

/**
 * At a run start (G12). A probe's run means the pass has been through the orphaned entry ahead of
 * it. An orphaned tasklet's entry has no SCHED: the pass must skip it (with the warning), so a
 * run of it before its probe ran is that entry running. Unless a schedule since set SCHED again
 * (this run is that schedule's) or a kill since holds SCHED while the entry is walked (the
 * kernel then runs it: a real race of the driver's, not the mechanism's).
 */
export function on_orphan_run(
  sh: Int32Array,
  words: Int32Array,
  i: number,
  cpu: number,
): FuzzViolation | null {
  const orphan = Atomics.exchange(words, xw(i, X_PROBE_OF), 0) - 1;
  if (orphan >= 0) Atomics.store(sh, tw(orphan, F_NO_SCHED), 0);
  if (Atomics.load(sh, tw(i, F_NO_SCHED)) === 0) return null;
  Atomics.store(sh, tw(i, F_NO_SCHED), 0);
  if (Atomics.load(sh, tw(i, F_SCHED_SEQ)) !== Atomics.load(words, xw(i, X_ORPHAN_SEQ))) return null;
  if (Atomics.load(words, xw(i, X_KILL_SEQ)) + 1 !== Atomics.load(words, xw(i, X_ORPHAN_KILLS))) return null;
  return {
    oracle: 'queued-without-sched',
    guarantee: 12,
    tasklet: i,
    cpus: [cpu],
    message: `t${i} ran on CPU${cpu} from a queue entry without SCHED (re-initialised after its schedule): tasklet_action must skip it with a warning`,
  };
}
