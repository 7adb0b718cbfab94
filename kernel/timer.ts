/**
 * Kernel timers (kernel/time/timer.c, LDD3 §7.4): struct timer_list in shared memory, one timer
 * base per CPU with its lock, the pending timers sorted by expiry and base->running_timer. The
 * tick raises TIMER_SOFTIRQ on a CPU whose first timer is due; run_timer_softirq collects the
 * due timers (still pending, so del_timer can take one back) and runs them one by one, each
 * detached before its callback runs, with the base unlocked and interrupts on. See
 * docs/semantics.md §8 (T1-T6).
 *
 * A timer is not a wheel slot here: the pending list is kept sorted (expiry, then arming order),
 * so timers run in expiry order at the first tick at or after `expires`.
 */
import {
  atomic_set,
  cpu_relax,
  layout,
  plain_inc,
  plain_read,
  plain_write,
  READ_ONCE,
  raw_load,
  raw_store,
  WRITE_ONCE,
} from '../shm/door.ts';
import {
  C_RUNNING_TIMER,
  C_TIMER_EXPIRED,
  C_TIMER_HEAD,
  C_TIMER_LOCK,
  C_TIMER_RUNS,
  C_TIMER_TAKEOVER,
  G_NR_CPUS,
  MAX_TIMERS,
  TIMER_MIGRATING,
  TIMER_STRIDE,
  TM_ALLOC,
  TM_CONTAINER,
  TM_CPU,
  TM_EXPIRES_HI,
  TM_EXPIRES_LO,
  TM_FLAGS,
  TM_FUNC,
  TM_LIST,
  TM_NEXT,
  TM_PREV,
  TM_WAITERS,
  WaitKind,
} from '../shm/layout.ts';
import { cpu_online } from './cpumask.ts';
import { kasan_left_armed_at_exit, kasan_unloaded_text } from './kasan.ts';
import { on_module_unload } from './module.ts';
import { oops } from './oops.ts';
import { requireCpu, this_cpu } from './percpu.ts';
import { in_atomic, in_hardirq } from './preempt.ts';
import { WARN } from './printk.ts';
import {
  SlotTable,
  word_lock_irqsave,
  word_lock_nested,
  word_unlock_irqrestore,
  word_unlock_nested,
} from './slot-table.ts';
import { __raise_softirq_irqoff, open_softirq, raise_softirq, TIMER_SOFTIRQ } from './softirq.ts';
import { callback_by_id, callback_id, callback_name } from './tasklet-table.ts';
import { jiffies, set_timer_tick, time_after_eq } from './tick.ts';
import { trace } from './trace.ts';
import { wait_until, wake_up_waiters } from './wait.ts';

export type TimerCallback = (t: TimerList) => void;

/** timer_setup flags (accepted and kept; every timer behaves as a plain deferrable-less one). */
export const TIMER_DEFERRABLE = 0x00080000;
export const TIMER_PINNED = 0x00100000;
export const TIMER_IRQSAFE = 0x00200000;

/** A `struct timer_list *`: a handle on one slot of the timer table. */
export class TimerList {
  readonly addr: number;
  constructor(readonly id: number) {
    this.addr = layout().timer(id);
  }
  get ptr(): number {
    return this.id + 1;
  }
  /** timer->expires. */
  get expires(): number {
    return read_expires(this.addr);
  }
  /** The CPU whose base it belongs to (pending or not). */
  get cpu(): number {
    return raw_load(this.addr + TM_CPU);
  }
  get flags(): number {
    return raw_load(this.addr + TM_FLAGS);
  }
  /** The module struct this timer is embedded in (what from_timer returns). */
  get container(): number {
    return raw_load(this.addr + TM_CONTAINER);
  }
  set container(value: number) {
    raw_store(this.addr + TM_CONTAINER, value);
  }
  get name(): string {
    return timer_name(this.id);
  }
}

function init_slot(addr: number, func: number): void {
  plain_write(addr + TM_LIST, 0);
  plain_write(addr + TM_NEXT, 0);
  plain_write(addr + TM_PREV, 0);
  plain_write(addr + TM_FUNC, func);
  plain_write(addr + TM_FLAGS, 0);
  plain_write(addr + TM_CPU, Math.max(0, this_cpu.id));
}

/** The timer table: static timers (DEFINE_TIMER) take the first slots, the rest are allocated. */
const table = new SlotTable<TimerList>(
  {
    kind: 'timer',
    struct: 'timer_list',
    slots: MAX_TIMERS,
    addr: (id) => layout().timer(id),
    func: TM_FUNC,
    alloc: TM_ALLOC,
    container: TM_CONTAINER,
    init: init_slot,
  },
  (id) => new TimerList(id),
);

export const timer_from_id = (id: number): TimerList => table.from_id(id);
const from_ptr = (ptr: number): TimerList => table.from_id(ptr - 1);
export const timer_name = (id: number): string => table.name(id);

/** DEFINE_TIMER(name, fn) at module top level: the same slot on every CPU. */
export const DEFINE_TIMER = (name: string, callback: TimerCallback): TimerList =>
  table.declare(name, callback);

/** CPU0 writes the static timers at bring-up, with the static tasklets. */
export function write_static_timers(): void {
  table.write_statics();
}

/**
 * A run-time timer_list (the kernel would embed it in a kmalloc'ed struct): `container` is what
 * from_timer returns, e.g. the index of the module's struct in its shared words.
 */
export function timer_alloc(name?: string, container = 0): TimerList {
  return table.alloc(name, container);
}

/** Gives a run-time timer's slot back; it must be neither pending nor running (del_timer_sync first). */
export function timer_free(t: TimerList): void {
  WARN(
    raw_load(t.addr + TM_LIST) !== 0 || running_anywhere(t),
    'timer_free',
    `timer_free: ${t.name} is still pending or running (del_timer_sync it first)`,
  );
  table.free(t.id);
}

/** rmmod: a timer of the module still pending or running fires into its freed text. */
on_module_unload(function timers_left_armed(m, text): void {
  for (const { id, isStatic, func } of table.in_text(text)) {
    const t = timer_from_id(id);
    const state = running_anywhere(t) ? 'running' : timer_pending(t) ? 'pending' : null;
    if (state === null) continue;
    kasan_left_armed_at_exit(m, {
      caller: 'call_timer_fn',
      addr: t.addr,
      words: TIMER_STRIDE,
      struct: 'timer_list',
      isStatic,
      line: `timer ${t.name} is still ${state} as module '${m.name}' exits: TIMER_SOFTIRQ runs ${callback_name(func)}, text of the unloaded module (del_timer_sync it in the exit path)`,
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Fields and the base lock.

function read_expires(addr: number): number {
  return (raw_load(addr + TM_EXPIRES_HI) >>> 0) * 2 ** 32 + (raw_load(addr + TM_EXPIRES_LO) >>> 0);
}

function write_expires(addr: number, expires: number): void {
  WRITE_ONCE(addr + TM_EXPIRES_LO, (expires % 2 ** 32) | 0);
  WRITE_ONCE(addr + TM_EXPIRES_HI, Math.floor(expires / 2 ** 32) | 0);
}

const baseOf = (cpu: number): number => layout().cpu(cpu);

/** raw_spin_lock_irqsave(&base->lock): returns the flags for base_unlock. */
export function base_lock(cpu: number): number {
  return word_lock_irqsave(baseOf(cpu) + C_TIMER_LOCK);
}

export function base_unlock(cpu: number, flags: number): void {
  word_unlock_irqrestore(baseOf(cpu) + C_TIMER_LOCK, flags);
}

/**
 * lock_timer_base: locks the base the timer belongs to, waiting while it migrates between
 * bases (TIMER_MIGRATING). Returns the base's CPU and the flags.
 */
function lock_timer_base(t: TimerList): { cpu: number; flags: number } {
  for (;;) {
    const cpu = READ_ONCE(t.addr + TM_CPU);
    if (cpu !== TIMER_MIGRATING) {
      const flags = base_lock(cpu);
      if (READ_ONCE(t.addr + TM_CPU) === cpu) return { cpu, flags };
      base_unlock(cpu, flags);
    }
    cpu_relax();
  }
}

// ---------------------------------------------------------------------------------------------
// The lists (doubly linked; TM_LIST names the head word of the list a pending timer is on).

/** enqueue_timer: after every timer that expires at or before it (FIFO among equals). */
function enqueue(cpu: number, t: TimerList, expires: number): void {
  const head = baseOf(cpu) + C_TIMER_HEAD;
  let prev = 0;
  let next = READ_ONCE(head);
  while (next !== 0 && time_after_eq(expires, read_expires(from_ptr(next).addr))) {
    prev = next;
    next = READ_ONCE(from_ptr(next).addr + TM_NEXT);
  }
  WRITE_ONCE(t.addr + TM_PREV, prev);
  WRITE_ONCE(t.addr + TM_NEXT, next);
  if (next !== 0) WRITE_ONCE(from_ptr(next).addr + TM_PREV, t.ptr);
  if (prev !== 0) WRITE_ONCE(from_ptr(prev).addr + TM_NEXT, t.ptr);
  else WRITE_ONCE(head, t.ptr);
  WRITE_ONCE(t.addr + TM_LIST, head);
}

/**
 * Unlinks a pending timer from whichever list holds it (the base lock is held). A timer that only
 * moves (to the expired list, to a live CPU's base) keeps its list word, so that it stays pending
 * throughout for lockless timer_pending() readers, as the kernel's detach_timer(timer, false).
 */
export function unlink(t: TimerList, clearPending = true): void {
  const list = READ_ONCE(t.addr + TM_LIST);
  const prev = READ_ONCE(t.addr + TM_PREV);
  const next = READ_ONCE(t.addr + TM_NEXT);
  if (prev !== 0) WRITE_ONCE(from_ptr(prev).addr + TM_NEXT, next);
  else WRITE_ONCE(list, next);
  if (next !== 0) WRITE_ONCE(from_ptr(next).addr + TM_PREV, prev);
  WRITE_ONCE(t.addr + TM_NEXT, 0);
  WRITE_ONCE(t.addr + TM_PREV, 0);
  if (clearPending) WRITE_ONCE(t.addr + TM_LIST, 0);
}

/** detach_if_pending: true if it was pending (the base lock is held). */
function detach_if_pending(t: TimerList): boolean {
  if (READ_ONCE(t.addr + TM_LIST) === 0) return false;
  timerOps.detach(t);
  return true;
}

function running_on(cpu: number, t: TimerList): boolean {
  return READ_ONCE(baseOf(cpu) + C_RUNNING_TIMER) === t.ptr;
}

function running_anywhere(t: TimerList): boolean {
  for (let cpu = 0; cpu < plain_read(G_NR_CPUS); cpu++) {
    if (raw_load(baseOf(cpu) + C_RUNNING_TIMER) === t.ptr) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The algorithm, as replaceable pieces (harness mutants swap one of them at boot).

/**
 * __mod_timer: detach, pick the base (this CPU's, unless the callback is running on the old
 * base right now: moving it then would let it run twice at once, T1), set expires, enqueue.
 * `pendingOnly`: mod_timer_pending, which does nothing to a timer that is not pending.
 * `target`: add_timer_on's CPU (-1: the current CPU).
 */
function mod(t: TimerList, expires: number, pendingOnly: boolean, target: number): boolean {
  let { cpu, flags } = lock_timer_base(t);
  const pending = timerOps.detach_if_pending(t);
  if (pendingOnly && !pending) {
    base_unlock(cpu, flags);
    return false;
  }
  const want = target >= 0 ? target : this_cpu.id;
  if (cpu !== want && timerOps.may_migrate(cpu, t)) cpu = switch_base(t, cpu, want);
  // add_timer_on's CPU went offline after it looked (its timers are, or are being, migrated):
  // this timer goes to the calling CPU instead of staying on a dead base.
  if (cpu !== this_cpu.id && !cpu_online(cpu)) cpu = switch_base(t, cpu, this_cpu.id);
  write_expires(t.addr, expires);
  trace.timer_start?.(t.id, expires, cpu);
  enqueue(cpu, t, expires);
  base_unlock(cpu, flags);
  return pending;
}

/**
 * The kernel's TIMER_MIGRATING dance, with the old base locked and interrupts off: nobody locks
 * the timer while it is between bases. Interrupts stay off from one lock to the other
 * (raw_spin_unlock, raw_spin_lock; the flags are restored with the new base's unlock): an
 * interrupt in between that touched the timer would wait for ever in lock_timer_base for a
 * move that only this CPU can finish.
 */
function switch_base(t: TimerList, from: number, to: number): number {
  WRITE_ONCE(t.addr + TM_CPU, TIMER_MIGRATING);
  word_unlock_nested(baseOf(from) + C_TIMER_LOCK);
  word_lock_nested(baseOf(to) + C_TIMER_LOCK);
  WRITE_ONCE(t.addr + TM_CPU, to);
  return to;
}

/** A timer whose callback runs on its base stays there (the kernel's base->running_timer check). */
function may_migrate(cpu: number, t: TimerList): boolean {
  return !running_on(cpu, t);
}

/** try_to_del_timer_sync: -1 while the callback runs on its base, else whether it was pending. */
function try_to_del_sync(t: TimerList): number {
  const { cpu, flags } = lock_timer_base(t);
  let ret = -1;
  if (!running_on(cpu, t)) ret = timerOps.detach_if_pending(t) ? 1 : 0;
  base_unlock(cpu, flags);
  return ret;
}

/** del_timer_sync's wait: until the callback is no longer the running timer of its base. */
function wait_running(t: TimerList): void {
  const mayBlock = !in_atomic() && !this_cpu.irqsOff;
  // A running timer never migrates (may_migrate), so its base is the one to watch.
  const done = (): boolean => {
    const cpu = READ_ONCE(t.addr + TM_CPU);
    return cpu === TIMER_MIGRATING || !running_on(cpu, t);
  };
  const base = raw_load(t.addr + TM_CPU);
  wait_until(t.addr + TM_WAITERS, done, WaitKind.TimerRunning, mayBlock, {
    // Raw reads: checking for a lost wake-up is no decision point of a controlled run.
    woken: () =>
      base !== TIMER_MIGRATING &&
      raw_load(t.addr + TM_CPU) === base &&
      raw_load(baseOf(base) + C_RUNNING_TIMER) !== t.ptr,
    what: () => `del_timer_sync(${t.name}): its callback returned with no wake-up`,
  });
}

/** __run_timers for this CPU: collect the due timers, run them one at a time in expiry order. */
function run_timers(): void {
  const cpu = this_cpu.id;
  const base = baseOf(cpu);
  let flags = base_lock(cpu);
  const now = jiffies();
  // collect_expired_timers: due timers move to the expired list, still pending.
  let last = 0;
  for (let p = READ_ONCE(base + C_TIMER_HEAD); p !== 0; p = READ_ONCE(base + C_TIMER_HEAD)) {
    const t = from_ptr(p);
    if (!timerOps.due(now, read_expires(t.addr))) break;
    unlink(t, false);
    WRITE_ONCE(t.addr + TM_PREV, last);
    if (last !== 0) WRITE_ONCE(from_ptr(last).addr + TM_NEXT, p);
    else WRITE_ONCE(base + C_TIMER_EXPIRED, p);
    WRITE_ONCE(t.addr + TM_LIST, base + C_TIMER_EXPIRED);
    last = p;
  }
  // expire_timers: each is detached before its callback runs, with the lock dropped.
  for (let p = READ_ONCE(base + C_TIMER_EXPIRED); p !== 0; p = READ_ONCE(base + C_TIMER_EXPIRED)) {
    flags = timerOps.expire_timer(cpu, from_ptr(p), flags, now);
  }
  base_unlock(cpu, flags);
}

/**
 * One timer of expire_timers, the base locked on entry and exit: it becomes the running timer
 * and is detached before its callback runs with the base unlocked and interrupts on, so the
 * callback may re-arm it (T4) and del_timer_sync can tell it is running. Returns the flags.
 */
function expire_timer(cpu: number, t: TimerList, flags: number, now: number): number {
  const base = baseOf(cpu);
  WRITE_ONCE(base + C_RUNNING_TIMER, t.ptr);
  timerOps.detach(t);
  base_unlock(cpu, flags);
  call_timer_fn(t, now);
  const again = base_lock(cpu);
  WRITE_ONCE(base + C_RUNNING_TIMER, 0);
  wake_up_waiters(t.addr + TM_WAITERS);
  return again;
}

export function call_timer_fn(t: TimerList, now: number): void {
  const funcId = plain_read(t.addr + TM_FUNC);
  kasan_unloaded_text(funcId, 'call_timer_fn', () => `timer ${t.name}`); // a timer its module left armed
  const fn = callback_by_id(funcId) as TimerCallback | undefined;
  plain_inc(this_cpu.base + C_TIMER_RUNS);
  trace.timer_expire_entry?.(t.id, now);
  try {
    fn?.(t);
  } catch (error) {
    oops(error, 'softirq (timer)', `timer ${t.name}`);
  }
  trace.timer_expire_exit?.(t.id);
}

/** The replaceable pieces. Correct code only; harness mutants swap entries at boot. */
export const timerOps = {
  detach: unlink,
  /** What mod_timer, del_timer and del_timer_sync return: whether the timer was pending. */
  detach_if_pending,
  /** Whether a timer expiring at `expires` is due at `now` (collect_expired_timers). */
  due: (now: number, expires: number): boolean => time_after_eq(now, expires),
  may_migrate,
  try_to_del_sync,
  wait_running,
  run_timers,
  expire_timer,
  dead_cpu: migrate_timers,
};

// ---------------------------------------------------------------------------------------------
// The API.

/** timer_setup(timer, callback, flags): not pending, on this CPU's base. */
export function timer_setup(t: TimerList, callback: TimerCallback, flags = 0): void {
  const id = callback_id(callback, 'timer_setup');
  WRITE_ONCE(t.addr + TM_LIST, 0);
  WRITE_ONCE(t.addr + TM_NEXT, 0);
  WRITE_ONCE(t.addr + TM_PREV, 0);
  atomic_set(t.addr + TM_FUNC, id);
  atomic_set(t.addr + TM_FLAGS, flags | 0);
  atomic_set(t.addr + TM_CPU, Math.max(0, this_cpu.id));
}

/** from_timer(var, timer, field): the struct the timer is embedded in (its `container`). */
export function from_timer(t: TimerList): number {
  return raw_load(t.addr + TM_CONTAINER);
}

export function timer_pending(t: TimerList): boolean {
  return READ_ONCE(t.addr + TM_LIST) !== 0;
}

function check_setup(t: TimerList, caller: string): boolean {
  if (plain_read(t.addr + TM_FUNC) >= 0) return true;
  WARN(true, caller, `${caller}: ${t.name} was never set up (timer_setup)`);
  return false;
}

/** Arms or moves the timer to fire at `expires`; true if it was pending. */
export function mod_timer(t: TimerList, expires: number): boolean {
  requireCpu('mod_timer');
  if (!check_setup(t, 'mod_timer')) return false;
  // The kernel's shortcut: a pending timer with the same expiry stays as it is.
  if (timer_pending(t) && read_expires(t.addr) === expires) return true;
  return mod(t, expires, false, -1);
}

/** Like mod_timer, but a timer that is not pending stays so. */
export function mod_timer_pending(t: TimerList, expires: number): boolean {
  requireCpu('mod_timer_pending');
  if (!check_setup(t, 'mod_timer_pending')) return false;
  return mod(t, expires, true, -1);
}

/** add_timer: arms a timer that is not pending at timer->expires (set it first). */
export function add_timer(t: TimerList, expires = t.expires): void {
  requireCpu('add_timer');
  if (WARN(timer_pending(t), 'add_timer', `add_timer: ${t.name} is already pending`)) return;
  if (!check_setup(t, 'add_timer')) return;
  mod(t, expires, false, -1);
}

/** add_timer_on: arms it on `cpu`'s base (an offline CPU's timer goes to this CPU instead). */
export function add_timer_on(t: TimerList, cpu: number, expires = t.expires): void {
  requireCpu('add_timer_on');
  if (WARN(timer_pending(t), 'add_timer_on', `add_timer_on: ${t.name} is already pending`)) return;
  if (!check_setup(t, 'add_timer_on')) return;
  const target = cpu_online(cpu) ? cpu : this_cpu.id;
  mod(t, expires, false, target);
}

/** Deactivates it; true if it was pending. The callback may still be running elsewhere. */
export function timer_delete(t: TimerList): boolean {
  requireCpu('timer_delete');
  if (!timer_pending(t)) return false;
  const { cpu, flags } = lock_timer_base(t);
  const ret = timerOps.detach_if_pending(t);
  if (ret) trace.timer_cancel?.(t.id);
  base_unlock(cpu, flags);
  return ret;
}
export const del_timer = timer_delete;

/** Whether the callback can be kept from running: 1 (was pending), 0 (was idle), -1 (it runs now). */
export function try_to_del_timer_sync(t: TimerList): number {
  requireCpu('try_to_del_timer_sync');
  const ret = timerOps.try_to_del_sync(t);
  if (ret === 1) trace.timer_cancel?.(t.id);
  return ret;
}

/**
 * Deactivates it and waits until its callback is not running anywhere: on return it is neither
 * pending nor running (unless something re-arms it). Not from hard interrupt context, nor from
 * the callback itself (it would wait for itself forever).
 */
export function timer_delete_sync(t: TimerList): boolean {
  requireCpu('timer_delete_sync');
  WARN(in_hardirq(), 'timer_delete_sync', 'timer_delete_sync from hard interrupt context');
  for (;;) {
    const ret = try_to_del_timer_sync(t);
    if (ret >= 0) return ret === 1;
    timerOps.wait_running(t);
  }
}
export const del_timer_sync = timer_delete_sync;

/** TIMER_SOFTIRQ's action. */
export function run_timer_softirq(): void {
  timerOps.run_timers();
}

/**
 * run_local_timers, from the tick (hard interrupt, interrupts off): raises TIMER_SOFTIRQ when
 * this CPU's first timer is due. Quiet reads: a machine without timers ticks as before.
 */
export function run_local_timers(): void {
  const base = this_cpu.base;
  const first = raw_load(base + C_TIMER_HEAD);
  if (first === 0) return;
  if (timerOps.due(jiffies(), read_expires(layout().timer(first - 1)))) __raise_softirq_irqoff(TIMER_SOFTIRQ);
}

/** init_timers for this CPU: an empty base, the TIMER_SOFTIRQ action, the tick's hook. */
export function init_timers(): void {
  const base = this_cpu.base;
  raw_store(base + C_TIMER_LOCK, 0);
  raw_store(base + C_TIMER_HEAD, 0);
  raw_store(base + C_TIMER_EXPIRED, 0);
  raw_store(base + C_RUNNING_TIMER, 0);
  open_softirq(TIMER_SOFTIRQ, run_timer_softirq);
  set_timer_tick(run_local_timers);
}

/**
 * timers_dead_cpu(dead), the CPUHP_TIMERS_PREPARE teardown: with the live base locked, then the
 * dead one, every pending timer of the dead CPU moves to this CPU's base (collected ones too:
 * the dead CPU will not run them). Raises TIMER_SOFTIRQ so that due ones run soon.
 */
export function timers_dead_cpu(dead: number): void {
  if (dead !== this_cpu.id) timerOps.dead_cpu(dead);
}

function migrate_timers(dead: number): void {
  const me = this_cpu.id;
  const flags = base_lock(me);
  const deadBase = baseOf(dead);
  const lock = deadBase + C_TIMER_LOCK;
  word_lock_nested(lock);
  let moved = 0;
  for (const list of [C_TIMER_EXPIRED, C_TIMER_HEAD]) {
    for (let p = READ_ONCE(deadBase + list); p !== 0; p = READ_ONCE(deadBase + list)) {
      const t = from_ptr(p);
      unlink(t, false);
      WRITE_ONCE(t.addr + TM_CPU, me);
      enqueue(me, t, read_expires(t.addr));
      moved++;
    }
  }
  WRITE_ONCE(deadBase + C_RUNNING_TIMER, 0);
  word_unlock_nested(lock);
  base_unlock(me, flags);
  plain_write(this_cpu.base + C_TIMER_TAKEOVER, plain_read(this_cpu.base + C_TIMER_TAKEOVER) + moved);
  if (moved > 0) raise_softirq(TIMER_SOFTIRQ);
}
