/**
 * The checks at a callback's entry and exit (G1, G5, G6, G7, G8, G14 of docs/semantics.md),
 * run on the CPU inside the callback. Pure functions of the shadow words and what the caller
 * observed, so unit tests can feed them bad histories; they keep the shadow up to date.
 */
import { type Violation, violation } from './guarantees.ts';
import {
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
