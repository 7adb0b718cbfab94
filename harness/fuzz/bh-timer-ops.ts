/**
 * The fuzz's timer ops and timer callback, with their oracles (T1-T6 of docs/semantics.md §8),
 * judged from the records of bh-items.ts: arms counted as they start (R.Arms), a fire or a
 * delete accounting for every arm counted before it (R.Covered), the earliest expiry armed since
 * the last judged fire, and what the shadow knows of idleness.
 */
import {
  add_timer_on,
  cpu_online,
  del_timer,
  del_timer_sync,
  from_timer,
  jiffies,
  mod_timer,
  mod_timer_pending,
  smp_processor_id,
  type TimerList,
  udelay,
} from 'tasklet-rt';
import {
  atomic_max,
  check_fire_time,
  check_placement,
  enter_callback,
  othersOffline,
  record_min,
} from '../oracles/bh-checks.ts';
import { offlineCount } from '../oracles/cpu-context.ts';
import { violation } from '../oracles/guarantees.ts';
import { R } from '../stress/bh-shadow.ts';
import {
  alone,
  begin_call,
  bh,
  bump,
  type CallStart,
  cancel_call,
  expect_run_on,
  load,
  ran_after_sync,
  timer,
} from './bh-items.ts';
import { B, H_ARMED, H_LAST_EXPIRES, TIMER_BUSY_US, timerName, xrec } from './bh-layout.ts';
import {
  check_return,
  counters,
  type Known,
  known_at,
  Pending,
  ranAlone,
  record_known,
} from './bh-pending.ts';
import { fail, logInterval, tick } from './state.ts';

/** The latest expiry armed in the program (the drain waits for it). */
function note_expiry(expires: number): void {
  const e = expires | 0;
  for (;;) {
    const cur = Atomics.load(bh, H_LAST_EXPIRES);
    if (Atomics.load(bh, H_ARMED) !== 0 && ((e - cur) | 0) <= 0) return;
    if (Atomics.compareExchange(bh, H_LAST_EXPIRES, cur, e) === cur) break;
  }
  Atomics.store(bh, H_ARMED, 1);
}

export type ArmKind = 'mod_timer' | 'mod_timer_pending' | 'add_timer_on';

/**
 * One arming call `ticks` jiffies ahead, bracketed for the oracles. From idle its fire belongs
 * on the arming CPU (the target of add_timer_on); the next arm, alone, that finds it pending
 * moves it: no fire before the new expiry (T2).
 */
export function armTimer(x: number, kind: ArmKind, ticks: number, target = -1, rearm = 0): boolean {
  const r = xrec(x);
  const t = timer(x);
  const cpu = smp_processor_id();
  // The offline count before the online check: an unplug after it shows in the count.
  const want = kind === 'add_timer_on' ? target : cpu;
  const offline = offlineCount(want);
  const others = othersOffline(want);
  const base = kind === 'add_timer_on' && cpu_online(target) ? target : cpu;
  const before = counters(r);
  const known = known_at(r, before);
  const start = begin_call(r);
  const moves = load(r, B.FromIdleSeq) === start.seq - 1;
  if (rearm > 0) Atomics.store(bh, r + R.Budget, rearm);
  const expires = jiffies() + ticks;
  record_min(bh, r, expires);
  note_expiry(expires);
  if (kind !== 'mod_timer_pending') {
    Atomics.store(bh, r + R.LastCpu, base + 1);
    Atomics.store(bh, r + R.LastOffline, offline);
    bump(r, R.Arms);
  }
  let pending = false;
  if (kind === 'mod_timer') pending = mod_timer(t, expires);
  else if (kind === 'mod_timer_pending') pending = mod_timer_pending(t, expires);
  else add_timer_on(t, base, expires);
  bump(r, R.ArmIn, -1);
  Atomics.store(bh, r + B.FromIdleSeq, start.fromIdle && alone(r, start) ? start.seq : 0);
  if (pending && moves && alone(r, start)) {
    Atomics.store(bh, r + B.NotBeforeSeq, start.seq);
    Atomics.store(bh, r + R.NotBefore, expires | 0 || -1);
  }
  if (kind !== 'mod_timer_pending' && base === want) expect_run_on(r, start, base, offline, others);
  if (ranAlone(before, counters(r), true)) judgeArm(x, kind, known, pending, expires, start);
  return pending;
}

/** T6 for an arm that ran alone: its return value (add_timer_on has none), and what it left. */
function judgeArm(
  x: number,
  kind: ArmKind,
  known: Known,
  pending: boolean,
  expires: number,
  start: CallStart,
): void {
  const r = xrec(x);
  if (kind !== 'add_timer_on')
    fail(check_return(known, pending, smp_processor_id(), `${timerName(x)}: ${kind}`));
  record_known(r, { seq: start.seq, cancels: start.cancels }, leftBy(kind, pending, known), expires);
}

/** mod_timer arms; mod_timer_pending only a pending timer; add_timer_on an idle one (on a pending one it warns, and nothing changes). */
function leftBy(kind: ArmKind, pending: boolean, known: Known): Pending {
  if (kind === 'mod_timer') return Pending.Yes;
  if (kind === 'mod_timer_pending') return pending ? Pending.Yes : Pending.No;
  return known.state === Pending.No ? Pending.Yes : Pending.Unknown;
}

/** del_timer or del_timer_sync: every arm counted so far is accounted for. T3 on a _sync return. */
export function delTimer(x: number, sync: boolean): void {
  const r = xrec(x);
  const before = counters(r);
  const known = known_at(r, before);
  let returned = false;
  const call = (): void => {
    returned = sync ? del_timer_sync(timer(x)) : del_timer(timer(x));
    atomic_max(bh, r + R.Covered, load(r, R.Arms));
  };
  fail(cancel_call(r, sync, call, 'timer-del-sync', `${timerName(x)}: del_timer_sync`));
  // T6, when only this delete started meanwhile: it returns what it found, and leaves it idle.
  const after = counters(r);
  if (!ranAlone(before, after, false)) return;
  const what = `${timerName(x)}: ${sync ? 'del_timer_sync' : 'del_timer'}`;
  fail(check_return(known, returned, smp_processor_id(), what));
  record_known(r, after, Pending.No);
}

/** The callback of every fuzz timer: T1, T2, T3, T5 at its start; a budgeted self re-arm (T4); a busy delay. */
export function fuzz_timer_fn(t: TimerList): void {
  const x = from_timer(t);
  const r = xrec(x);
  const cpu = smp_processor_id();
  const now = jiffies();
  const start = tick();
  const name = timerName(x);
  fail(enter_callback(bh, r, cpu, 'timer-reentrant', `${name}: callback started`));
  if (ran_after_sync(r))
    fail(
      violation(
        'timer-del-sync',
        -1,
        [cpu],
        `${name}: ran on CPU${cpu} after del_timer_sync returned, with no arm since`,
      ),
    );
  fail(check_fire_time(bh, r, now, cpu, name));
  const notBefore = Atomics.exchange(bh, r + R.NotBefore, 0);
  if (notBefore !== 0 && load(r, B.NotBeforeSeq) === load(r, B.Seq) && ((now - notBefore) | 0) < 0)
    fail(
      violation(
        'timer-early',
        -1,
        [cpu],
        `${name}: mod_timer moved the pending timer to jiffies ${notBefore >>> 0}, but it ran at ${now >>> 0} (the old expiry)`,
      ),
    );
  bump(r, R.Runs);
  fail(check_placement(bh, r, cpu, 'timer-takeover', name, 'armed'));
  atomic_max(bh, r + R.Covered, load(r, R.Arms));
  if (Atomics.sub(bh, r + R.Budget, 1) > 0) armTimer(x, 'mod_timer', 1);
  else Atomics.store(bh, r + R.Budget, 0);
  if (TIMER_BUSY_US[x] > 0) udelay(TIMER_BUSY_US[x]);
  bump(r, R.Ends);
  Atomics.compareExchange(bh, r + R.Inside, cpu + 1, 0);
  logInterval(cpu, 'timer_run', start);
}
