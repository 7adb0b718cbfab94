/**
 * The checks at a callback's entry and exit (G1, G5, G6, G7, G8, G13, G14 of docs/semantics.md),
 * run on the CPU inside the callback. Pure functions of the shadow words and what the caller
 * observed, so unit tests can feed them bad histories; they keep the shadow up to date.
 */
import { type Violation, violation } from './guarantees.ts';
import {
  F_COVERED,
  F_DISABLED,
  F_INSIDE,
  F_INV,
  F_INV_EXIT,
  F_INV_FIRST,
  F_INV_RUNS,
  F_KIND,
  F_LAST_PASS,
  F_OWNER,
  F_OWNER_EPOCH,
  F_PAIR,
  F_RUNS,
  F_SCHED_SEQ,
  INSIDE_TRYLOCK,
  insideCpu,
  insideWhat,
  PairState,
  TaskletKind,
  tw,
} from './shadow.ts';

export interface RunContext {
  cpu: number;
  servingSoftirq: boolean;
  inInterrupt: boolean;
  inHardirq: boolean;
  /** This CPU's count of invocations of the softirq vector the run belongs to. */
  passCount: number;
  /** How often the tasklet's owner CPU has gone offline (private tasklets; else 0). */
  ownerOfflineCount: number;
  /** This CPU's count of softirq invocations (handle_softirqs calls), including this one. */
  invocation: number;
  /** The vector being served (HI_SOFTIRQ = 0, TASKLET_SOFTIRQ = 6; -1 not known). */
  vector: number;
  /** jiffies now (its low 32 bits are enough: only differences count). */
  jiffies: number;
  /** msecs_to_jiffies(MAX_SOFTIRQ_TIME_MS) at this HZ, computed by the harness. */
  boundJiffies: number;
}

/** MAX_SOFTIRQ_RESTART: passes one softirq invocation may make (docs/semantics.md §3). */
export const PASS_LIMIT = 10;
/** MAX_SOFTIRQ_TIME in milliseconds; handle_softirqs stops restarting at jiffies + msecs_to_jiffies(2). */
export const PASS_TIME_MS = 2;
/** The harness's own msecs_to_jiffies: rounds up, as the kernel's does. */
export const bound_jiffies = (hz: number): number => Math.ceil((PASS_TIME_MS * hz) / 1000);

/**
 * Check 13 at a run start. A tasklet runs at most once per tasklet_action call (G6), so its runs
 * within one invocation, counted per vector, number the passes that invocation made: more than
 * PASS_LIMIT is a broken restart bound (a run in another vector starts the count again). A run in a later pass of the same invocation means the
 * loop restarted after the last run exited; if by then jiffies had reached the first run's
 * jiffies + the bound (the invocation began no later), the loop restarted past its time limit.
 */
function check_pass_bounds(sh: Int32Array, i: number, ctx: RunContext): Violation | null {
  // Same CPU, same invocation, same vector: a run in a later pass (one vector runs once a pass).
  const hi = ctx.vector === 0 ? 1 << 23 : 0;
  const key = (((ctx.cpu & 0x7f) << 24) | hi | (ctx.invocation & 0x7fffff)) + 1;
  if (Atomics.exchange(sh, tw(i, F_INV), key) !== key) {
    Atomics.store(sh, tw(i, F_INV_RUNS), 1);
    Atomics.store(sh, tw(i, F_INV_FIRST), ctx.jiffies | 0);
    Atomics.store(sh, tw(i, F_INV_EXIT), ctx.jiffies | 0);
    return null;
  }
  const runs = Atomics.add(sh, tw(i, F_INV_RUNS), 1) + 1;
  if (runs > PASS_LIMIT) {
    return violation(
      'pass-bounds',
      i,
      [ctx.cpu],
      `ran ${runs} times in one softirq invocation on CPU${ctx.cpu}: more than ${PASS_LIMIT} passes (MAX_SOFTIRQ_RESTART)`,
    );
  }
  const first = Atomics.load(sh, tw(i, F_INV_FIRST));
  const lastExit = Atomics.load(sh, tw(i, F_INV_EXIT));
  if (((lastExit - first) | 0) >= ctx.boundJiffies) {
    return violation(
      'pass-bounds',
      i,
      [ctx.cpu],
      `softirq invocation on CPU${ctx.cpu} restarted at jiffies ≥ ${(lastExit - first) | 0} after its first run; the bound is ${ctx.boundJiffies} (msecs_to_jiffies(2))`,
    );
  }
  return null;
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
        [insideCpu(other), cpu],
        other & INSIDE_TRYLOCK
          ? `callback entered on CPU${cpu} while ${insideWhat(other)}`
          : `callback entered on CPU${cpu} while running on CPU${insideCpu(other)}`,
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
  const bounds = check_pass_bounds(sh, i, ctx);
  if (bounds !== null) note(bounds);
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

/** At callback exit. Checks 1 (nobody else entered meanwhile); notes the exit jiffies for check 13. */
export function on_run_end(sh: Int32Array, i: number, cpu: number, jiffies?: number): Violation | null {
  if (jiffies !== undefined) Atomics.store(sh, tw(i, F_INV_EXIT), jiffies | 0);
  const seen = Atomics.compareExchange(sh, tw(i, F_INSIDE), cpu + 1, 0);
  if (seen === cpu + 1) return null;
  return violation(
    'mutual-exclusion',
    i,
    [cpu, seen - 1],
    `another CPU entered the callback while it ran on CPU${cpu}`,
  );
}
