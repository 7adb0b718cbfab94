/**
 * The timer half of the stress workload (docs/semantics.md §8, T1-T6). Racing ops arm, move and
 * delete shared timers from process, softirq and hard-irq context on every CPU; exclusive ops
 * hold one timer and provoke one guarantee: del_timer_sync while the callback runs elsewhere
 * (T3), mod_timer from another CPU while it runs (T1), add_timer_on onto a CPU (where it must
 * run, T5) and mod_timer moving a pending timer later (T2). Self re-arms (T4) and the drain
 * (every arm fires) cover the rest.
 *
 * What the oracles read is the harness's own record (bh-shadow.ts): arms are counted as they
 * start, a fire or a delete accounts for every arm counted before it, and the earliest expiry
 * armed since the last fire bounds when the next may run.
 */
import {
  add_timer,
  add_timer_on,
  cpu_online,
  del_timer,
  del_timer_sync,
  from_timer,
  HZ,
  jiffies,
  mod_timer,
  mod_timer_pending,
  nr_cpu_ids,
  smp_processor_id,
  type TaskBody,
  type TimerList,
  timer_from_id,
  udelay,
} from 'tasklet-rt';
import { check_fire_time, enter_callback, record_min } from '../oracles/bh-checks.ts';
import { offlineCount } from '../oracles/cpu-context.ts';
import { violation } from '../oracles/guarantees.ts';
import {
  bh,
  check_placement,
  covered,
  expect_placement,
  fail,
  racing,
  raise_to,
  releaseExclusive,
  rng,
  running,
  slotNow,
  slow_allowed,
  take_budget,
  tryExclusive,
  wait_until,
} from './bh-common.ts';
import { B_FIRST_TIMER, B_NR_TIMERS, R, tr } from './bh-shadow.ts';
import { Slot } from './coverage.ts';

/** Machine time an exclusive op waits for the fire it asked for. */
const WAIT_MS = 200;

const handles: TimerList[] = [];
export function timer(i: number): TimerList {
  let t = handles[i];
  if (t === undefined) {
    t = timer_from_id(Atomics.load(bh, B_FIRST_TIMER) + i);
    handles[i] = t;
  }
  return t;
}
const nTimers = (): number => Atomics.load(bh, B_NR_TIMERS);
const name = (i: number): string => `timer stress-timer${i}`;
/** A slow callback busy-waits a tick and a half: long enough for another CPU's tick to come. */
const slowUs = (): number => Math.ceil(1_500_000 / HZ());

type ArmKind = 'mod_timer' | 'mod_timer_pending' | 'add_timer' | 'add_timer_on';

/**
 * One arming call, bracketed for the oracles: counted (unless mod_timer_pending, which may arm
 * nothing) before it starts, its expiry kept as a lower bound. Returns mod_timer's result.
 */
export function arm(i: number, kind: ArmKind, expires: number, target = -1): boolean {
  const t = timer(i);
  const cpu = smp_processor_id();
  const base = target >= 0 ? target : cpu;
  Atomics.add(bh, tr(i, R.ArmIn), 1);
  record_min(bh, tr(i, 0), expires);
  if (kind !== 'mod_timer_pending') {
    Atomics.store(bh, tr(i, R.LastCpu), base + 1);
    Atomics.store(bh, tr(i, R.LastOffline), offlineCount(base));
    Atomics.add(bh, tr(i, R.Arms), 1);
  }
  let ret = false;
  covered(kind, () => {
    if (kind === 'mod_timer') ret = mod_timer(t, expires);
    else if (kind === 'mod_timer_pending') ret = mod_timer_pending(t, expires);
    else if (kind === 'add_timer') add_timer(t, expires);
    else add_timer_on(t, base, expires);
  });
  Atomics.sub(bh, tr(i, R.ArmIn), 1);
  return ret;
}

/** del_timer or del_timer_sync: every arm counted so far is accounted for. */
export function del(i: number, sync: boolean): boolean {
  const t = timer(i);
  const ret = covered(sync ? 'del_timer_sync' : 'del_timer', () => (sync ? del_timer_sync(t) : del_timer(t)));
  raise_to(tr(i, R.Covered), Atomics.load(bh, tr(i, R.Arms)));
  return ret;
}

export function bh_timer_fn(t: TimerList): void {
  const i = from_timer(t);
  const cpu = smp_processor_id();
  const now = jiffies();
  fail(enter_callback(bh, tr(i, 0), cpu, 'timer-reentrant', `${name(i)}: callback started`));
  fail(check_fire_time(bh, tr(i, 0), now, cpu, name(i)));
  const notBefore = Atomics.exchange(bh, tr(i, R.NotBefore), 0);
  if (notBefore !== 0 && ((now - notBefore) | 0) < 0)
    fail(
      violation(
        'timer-early',
        -1,
        [cpu],
        `${name(i)}: mod_timer moved the pending timer ${(notBefore - now) | 0} jiffies later, but it ran at the old expiry`,
      ),
    );
  fail(check_placement(bh, tr(i, 0), cpu, 'timer-takeover', name(i), 'armed'));
  raise_to(tr(i, R.Covered), Atomics.load(bh, tr(i, R.Arms)));
  Atomics.add(bh, tr(i, R.Runs), 1);
  covered('timer_run', () => {
    const slow = Atomics.load(bh, tr(i, R.Slow));
    if (slow !== 0) udelay(slow);
    else if (rng.chance(30)) udelay(rng.below(25));
    // T4: a callback re-arms its own timer; each re-arm must run once.
    racing(tr(i, 0), () => {
      if (running() && take_budget(tr(i, 0))) arm(i, 'mod_timer', jiffies() + rng.below(3));
    });
  });
  if (running() && rng.chance(15)) racing_timer_op(rng.below(nTimers()));
  Atomics.add(bh, tr(i, R.Ends), 1);
  Atomics.compareExchange(bh, tr(i, R.Inside), cpu + 1, 0);
  if (Atomics.exchange(bh, tr(i, R.HeldUntilFire), 0) === 1) releaseExclusive(tr(i, 0));
}

/**
 * A racing op on timer i unless an exclusive op holds it: mod_timer, mod_timer_pending or
 * del_timer from any context, del_timer_sync from process context only (a softirq spinning on
 * another CPU's callback that spins on this one would deadlock, in the kernel as here).
 */
export function racing_timer_op(i: number): void {
  racing(tr(i, 0), () => {
    if (!running()) return;
    const pick = rng.below(10);
    const expires = jiffies() + rng.below(8);
    if (pick < 5) {
      if (rng.chance(30)) Atomics.store(bh, tr(i, R.Budget), 1 + rng.below(3));
      arm(i, 'mod_timer', expires);
    } else if (pick < 7) arm(i, 'mod_timer_pending', expires);
    else if (pick < 9 || slotNow() !== Slot.Process) del(i, false);
    else del(i, true);
  });
}

/** Another online CPU than `cpu`, or -1. */
export function other_online(cpu: number): number {
  const n = nr_cpu_ids();
  const start = rng.below(n);
  for (let k = 0; k < n; k++) {
    const c = (start + k) % n;
    if (c !== cpu && cpu_online(c)) return c;
  }
  return -1;
}

/** An exclusive op on one timer: it is idle (deleted, not running) before and may be pending after. */
export function* timer_sync_op(cpu: number): TaskBody<void> {
  const i = rng.below(nTimers());
  const base = tr(i, 0);
  if (!(yield* tryExclusive(base, cpu))) return;
  del(i, true);
  const runs = (): number => Atomics.load(bh, tr(i, R.Runs));
  let flavour = rng.below(4);
  if (flavour < 2 && !slow_allowed()) flavour = 2 + rng.below(2);
  if (flavour === 0) yield* del_sync_while_running(i, cpu, runs);
  else if (flavour === 1) yield* mod_while_running(i, cpu, runs);
  else if (flavour === 2) {
    // add_timer(_on): it runs on the CPU it was armed on (or that CPU's heir after an unplug).
    // Held until it fires (its callback lets go), so no racing delete accounts for an arm a
    // hot-unplug lost (T5); armed far ahead at times, so that an unplug of its CPU is likely
    // meanwhile. This task goes on at once.
    const target = rng.chance(50) ? cpu : other_online(cpu);
    const t = target < 0 ? cpu : target;
    const ahead = rng.chance(50) ? 1 + rng.below(3) : 10 + rng.below(40);
    expect_placement(tr(i, 0), t);
    Atomics.store(bh, tr(i, R.HeldUntilFire), 1);
    if (t === cpu) arm(i, 'add_timer', jiffies() + ahead);
    else arm(i, 'add_timer_on', jiffies() + ahead, t);
    return;
  } else {
    // mod_timer on a pending timer moves it: not before the new expiry. It returns true (T6)
    // unless the first expiry came first.
    const first = jiffies() + 2;
    arm(i, 'add_timer', first);
    const later = jiffies() + 4 + rng.below(4);
    const r0 = runs();
    if (arm(i, 'mod_timer', later)) Atomics.store(bh, tr(i, R.NotBefore), later | 0 || -1);
    else if (((jiffies() - first) | 0) < 0)
      fail(
        violation(
          'timer-pending',
          -1,
          [cpu],
          `${name(i)}: mod_timer returned false on CPU${cpu}, but the timer was pending (add_timer for jiffies ${first >>> 0}, still ahead)`,
        ),
      );
    yield* wait_until(() => runs() > r0, WAIT_MS);
    Atomics.store(bh, tr(i, R.NotBefore), 0);
  }
  releaseExclusive(base);
}

/** T3: del_timer_sync while the callback runs (slowly) on some CPU; on return it runs nowhere and never again. */
function* del_sync_while_running(i: number, cpu: number, runs: () => number): TaskBody<void> {
  const target = rng.chance(70) ? other_online(cpu) : cpu;
  const r0 = runs();
  Atomics.store(bh, tr(i, R.Slow), slowUs());
  if (target < 0 || target === cpu) arm(i, 'add_timer', jiffies());
  else arm(i, 'add_timer_on', jiffies(), target);
  if (target !== cpu)
    yield* wait_until(() => Atomics.load(bh, tr(i, R.Inside)) !== 0 || runs() > r0, WAIT_MS);
  del(i, true);
  Atomics.store(bh, tr(i, R.Slow), 0);
  const inside = Atomics.load(bh, tr(i, R.Inside));
  if (inside !== 0)
    fail(
      violation(
        'timer-del-sync',
        -1,
        [cpu, inside - 1],
        `${name(i)}: del_timer_sync returned on CPU${cpu} while the callback was running on CPU${inside - 1}`,
      ),
    );
  const after = runs();
  const until = jiffies() + 2;
  yield* wait_until(() => ((jiffies() - until) | 0) > 0, WAIT_MS);
  if (runs() !== after)
    fail(
      violation('timer-del-sync', -1, [cpu], `${name(i)}: the callback ran after del_timer_sync returned`),
    );
}

/** T1: mod_timer from this CPU while the callback runs (slowly) on another: it must not run here meanwhile. */
function* mod_while_running(i: number, cpu: number, runs: () => number): TaskBody<void> {
  const target = other_online(cpu);
  if (target < 0) return;
  const r0 = runs();
  Atomics.store(bh, tr(i, R.Slow), slowUs());
  arm(i, 'add_timer_on', jiffies(), target);
  if (yield* wait_until(() => Atomics.load(bh, tr(i, R.Inside)) === target + 1, WAIT_MS)) {
    arm(i, 'mod_timer', jiffies());
    yield* wait_until(() => runs() > r0 + 1, WAIT_MS);
  }
  Atomics.store(bh, tr(i, R.Slow), 0);
}
