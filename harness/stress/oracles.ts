/**
 * The oracles: one check per guarantee of the semantics doc that a running machine can check.
 * Each is a pure function of the shadow words and what the caller observed, so unit tests can
 * feed them bad histories. They return a Violation or null and keep the shadow up to date.
 */
import {
  F_BUDGET,
  F_COVERED,
  F_DISABLED,
  F_INSIDE,
  F_KIND,
  F_LAST_PASS,
  F_OWNER,
  F_OWNER_EPOCH,
  F_PAIR,
  F_RUNS,
  F_SCHED_SEQ,
  F_SCHED_WHILE_RUNNING,
  F_TRACE_ENTRIES,
  PairState,
  TaskletKind,
  tw,
} from './shadow.ts';

export const ORACLES = {
  'mutual-exclusion': 1,
  coalescing: 2,
  'schedule-while-running': 3,
  'at-least-once': 4,
  locality: 5,
  'one-run-per-pass': 6,
  order: 7,
  disabled: 8,
  'disable-waits': 9,
  kill: 10,
  structure: 11,
  context: 14,
  trace: 15,
} as const;

export type OracleName = keyof typeof ORACLES;
export const ORACLE_NAMES = Object.keys(ORACLES) as OracleName[];

export interface Violation {
  oracle: OracleName;
  guarantee: number;
  /** Stress tasklet index (not the runtime id). */
  tasklet: number;
  cpus: number[];
  message: string;
}

function violation(oracle: OracleName, tasklet: number, cpus: number[], message: string): Violation {
  return { oracle, guarantee: ORACLES[oracle], tasklet, cpus, message };
}

export interface RunContext {
  cpu: number;
  servingSoftirq: boolean;
  inInterrupt: boolean;
  inHardirq: boolean;
  /** This CPU's count of invocations of the softirq vector the run belongs to. */
  passCount: number;
  /** How often the tasklet's owner CPU has gone offline (private tasklets; else 0). */
  ownerOfflineCount: number;
}

/** At callback entry. Checks 1, 5, 6, 7, 8, 14; records the run. */
export function on_run_start(sh: Int32Array, i: number, ctx: RunContext): Violation | null {
  const { cpu } = ctx;
  let found: Violation | null = null;
  const note = (v: Violation): void => {
    found ??= v;
  };

  const other = Atomics.compareExchange(sh, tw(i, F_INSIDE), 0, cpu + 1);
  if (other !== 0) {
    note(
      violation(
        'mutual-exclusion',
        i,
        [other - 1, cpu],
        `callback entered on CPU${cpu} while running on CPU${other - 1}`,
      ),
    );
  }
  if (!ctx.servingSoftirq || !ctx.inInterrupt || ctx.inHardirq) {
    note(
      violation(
        'context',
        i,
        [cpu],
        `callback context: in_serving_softirq=${ctx.servingSoftirq} in_interrupt=${ctx.inInterrupt} in_hardirq=${ctx.inHardirq}`,
      ),
    );
  }
  if (Atomics.load(sh, tw(i, F_DISABLED)) > 0) {
    note(
      violation(
        'disabled',
        i,
        [cpu],
        `callback ran on CPU${cpu} after tasklet_disable returned and before tasklet_enable`,
      ),
    );
  }
  const pass = (((cpu & 0xff) << 24) | (ctx.passCount & 0xffffff)) + 1;
  if (Atomics.exchange(sh, tw(i, F_LAST_PASS), pass) === pass) {
    note(violation('one-run-per-pass', i, [cpu], `ran twice in one tasklet_action pass on CPU${cpu}`));
  }
  // Hotplug aside: if the owner went offline since the oldest pending schedule, its queue moved.
  const owner = Atomics.load(sh, tw(i, F_OWNER)) - 1;
  const scheduledInEpoch = Atomics.exchange(sh, tw(i, F_OWNER_EPOCH), 0) - 1;
  const ownerStayedOnline = owner >= 0 && scheduledInEpoch === ctx.ownerOfflineCount;
  if (owner >= 0 && owner !== cpu && ownerStayedOnline) {
    note(violation('locality', i, [owner, cpu], `scheduled only by CPU${owner} but ran on CPU${cpu}`));
  }
  const kind = Atomics.load(sh, tw(i, F_KIND));
  if (kind === TaskletKind.PairHi) {
    Atomics.compareExchange(sh, tw(i - 1, F_PAIR), PairState.Pending, PairState.HiRan);
  } else if (kind === TaskletKind.PairNormal) {
    const pair = Atomics.exchange(sh, tw(i, F_PAIR), PairState.Idle);
    if (pair === PairState.Pending && ownerStayedOnline) {
      note(
        violation(
          'order',
          i,
          [cpu],
          `TASKLET work ran before HI work that was pending at the same pass on CPU${cpu}`,
        ),
      );
    }
  }
  // Every schedule started before this entry either set SCHED for this run or coalesced into it.
  const seq = Atomics.load(sh, tw(i, F_SCHED_SEQ));
  if (Atomics.load(sh, tw(i, F_COVERED)) < seq) Atomics.store(sh, tw(i, F_COVERED), seq);
  Atomics.add(sh, tw(i, F_RUNS), 1);
  return found;
}

/** At callback exit. Checks 1 (nobody else entered meanwhile). */
export function on_run_end(sh: Int32Array, i: number, cpu: number): Violation | null {
  const seen = Atomics.compareExchange(sh, tw(i, F_INSIDE), cpu + 1, 0);
  if (seen === cpu + 1) return null;
  return violation(
    'mutual-exclusion',
    i,
    [cpu, seen - 1],
    `another CPU entered the callback while it ran on CPU${cpu}`,
  );
}

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
export function on_disable_return(sh: Int32Array, i: number, cpu: number): Violation | null {
  const inside = Atomics.load(sh, tw(i, F_INSIDE));
  Atomics.add(sh, tw(i, F_DISABLED), 1);
  if (inside === 0) return null;
  return violation(
    'disable-waits',
    i,
    [cpu, inside - 1],
    `tasklet_disable returned on CPU${cpu} while the callback ran on CPU${inside - 1}`,
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
      [cpu, inside - 1],
      `tasklet_kill returned on CPU${cpu} while the callback ran on CPU${inside - 1}`,
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

/**
 * End of a coalescing episode: `schedules` calls were made from several CPUs while the tasklet
 * was disabled and pending, then it was enabled and has run and gone idle. Check 2: one run.
 */
export function on_episode_end(
  sh: Int32Array,
  i: number,
  runsBefore: number,
  schedules: number,
): Violation | null {
  const runs = Atomics.load(sh, tw(i, F_RUNS)) - runsBefore;
  if (runs === 1) return null;
  return violation(
    'coalescing',
    i,
    [],
    `${schedules} schedules while pending gave ${runs} runs instead of one`,
  );
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

/** Self-reschedule budget: true if the callback may reschedule itself once more. */
export function take_budget(sh: Int32Array, i: number): boolean {
  return Atomics.sub(sh, tw(i, F_BUDGET), 1) > 0;
}
