/**
 * BH workqueues (kernel/workqueue.c, 6.9+; disable/enable 6.10): work items run in the queueing
 * CPU's softirq, from workqueue_softirq_action at the start of TASKLET_SOFTIRQ (system_bh_wq) or
 * HI_SOFTIRQ (system_bh_highpri_wq), in queueing order, never concurrently with themselves. Each
 * CPU has two BH worker pools (normal, highpri): a FIFO worklist and the work it runs now
 * (the kernel's worker->current_work), under one lock. See docs/semantics.md §10 (W1-W4).
 *
 * Unlike a tasklet, a work item is not pending while it runs (PENDING is cleared just before its
 * function is called), and queueing a disabled work item fails and is forgotten.
 */
import {
  atomic_dec_return,
  atomic_inc,
  atomic_read,
  atomic_set,
  cpu_relax,
  layout,
  plain_inc,
  plain_read,
  plain_write,
  READ_ONCE,
  raw_load,
  raw_store,
  test_and_clear_bit,
  test_and_set_bit,
  WRITE_ONCE,
} from '../shm/door.ts';
import {
  C_BH_HEAD,
  C_BH_HI_HEAD,
  C_BH_LOCK,
  C_BH_RUNS,
  MAX_WORKS,
  WaitKind,
  WK_ALLOC,
  WK_CONTAINER,
  WK_DISABLE,
  WK_FINISHED,
  WK_FUNC,
  WK_NEXT,
  WK_POOL,
  WK_STARTED,
  WK_STATE,
  WK_WAITERS,
  WORK_STRIDE,
  WORK_STRUCT_PENDING,
} from '../shm/layout.ts';
import { cpu_online } from './cpumask.ts';
import { CALL_FUNCTION_IRQ, raise_irq } from './irq.ts';
import { local_irq_restore, local_irq_save } from './irqflags.ts';
import { kasan_left_armed_at_exit, kasan_unloaded_text } from './kasan.ts';
import { on_module_unload } from './module.ts';
import { oops } from './oops.ts';
import { requireCpu, this_cpu } from './percpu.ts';
import { in_atomic } from './preempt.ts';
import { WARN } from './printk.ts';
import {
  SlotTable,
  word_lock_irqsave,
  word_lock_nested,
  word_unlock_irqrestore,
  word_unlock_nested,
} from './slot-table.ts';
import { __raise_softirq_irqoff, HI_SOFTIRQ, raise_softirq_irqoff, TASKLET_SOFTIRQ } from './softirq.ts';
import { callback_by_id, callback_id, callback_name } from './tasklet-table.ts';
import { jiffies, msecs_to_jiffies, time_before } from './tick.ts';
import { trace } from './trace.ts';
import { wait_until, wake_up_waiters } from './wait.ts';

export type WorkFunc = (work: WorkStruct) => void;

export const WQ_UNBOUND = 1 << 1;
export const WQ_FREEZABLE = 1 << 2;
export const WQ_MEM_RECLAIM = 1 << 3;
export const WQ_HIGHPRI = 1 << 4;
export const WQ_CPU_INTENSIVE = 1 << 5;
export const WQ_BH = 1 << 0;

/** bh_worker's bounds, as the softirq's own: at most this many restarts and 2 ms of jiffies. */
const BH_WORKER_RESTARTS = 10;
const BH_WORKER_MS = 2;

/** A `struct workqueue_struct *`. Only BH workqueues exist here. */
export class WorkqueueStruct {
  constructor(
    readonly name: string,
    readonly flags: number,
  ) {}
  get highpri(): boolean {
    return (this.flags & WQ_HIGHPRI) !== 0;
  }
}

/** A `struct work_struct *`: a handle on one slot of the work table. */
export class WorkStruct {
  readonly addr: number;
  constructor(readonly id: number) {
    this.addr = layout().work(id);
  }
  get ptr(): number {
    return this.id + 1;
  }
  get container(): number {
    return raw_load(this.addr + WK_CONTAINER);
  }
  set container(value: number) {
    raw_store(this.addr + WK_CONTAINER, value);
  }
  get name(): string {
    return work_name(this.id);
  }
}

export const system_bh_wq = new WorkqueueStruct('events_bh', WQ_BH);
export const system_bh_highpri_wq = new WorkqueueStruct('events_bh_highpri', WQ_BH | WQ_HIGHPRI);

/** alloc_workqueue(name, flags, max_active): BH workqueues only (WQ_BH, optionally WQ_HIGHPRI). */
export function alloc_workqueue(name: string, flags: number, _max_active = 0): WorkqueueStruct {
  if ((flags & WQ_BH) === 0) {
    throw new Error(`alloc_workqueue(${name}): only BH workqueues (WQ_BH) exist in tasklet-rt`);
  }
  if ((flags & ~(WQ_BH | WQ_HIGHPRI)) !== 0) {
    throw new Error(`alloc_workqueue(${name}): a WQ_BH workqueue takes no flags but WQ_HIGHPRI`);
  }
  return new WorkqueueStruct(name, flags);
}

export function destroy_workqueue(_wq: WorkqueueStruct): void {}

// ---------------------------------------------------------------------------------------------
// The table: static works (DECLARE_WORK) first, then run-time ones.

function init_slot(addr: number, func: number): void {
  plain_write(addr + WK_STATE, 0);
  plain_write(addr + WK_DISABLE, 0);
  plain_write(addr + WK_NEXT, 0);
  plain_write(addr + WK_FUNC, func);
  plain_write(addr + WK_POOL, -1);
  plain_write(addr + WK_STARTED, 0);
  plain_write(addr + WK_FINISHED, 0);
}

/** The work table: static work items (DECLARE_WORK) first, then run-time ones. */
const table = new SlotTable<WorkStruct>(
  {
    kind: 'work item',
    struct: 'work_struct',
    slots: MAX_WORKS,
    addr: (id) => layout().work(id),
    func: WK_FUNC,
    alloc: WK_ALLOC,
    container: WK_CONTAINER,
    init: init_slot,
  },
  (id) => new WorkStruct(id),
);

export const work_from_id = (id: number): WorkStruct => table.from_id(id);
const from_ptr = (ptr: number): WorkStruct => table.from_id(ptr - 1);
export const work_name = (id: number): string => table.name(id);

/** DECLARE_WORK(name, fn) at module top level: the same slot on every CPU. */
export const DECLARE_WORK = (name: string, fn: WorkFunc): WorkStruct => table.declare(name, fn);

/** CPU0 writes the static work items at bring-up. */
export function write_static_works(): void {
  table.write_statics();
}

/** A run-time work_struct; `container` is what from_work returns. */
export function work_alloc(name?: string, container = 0): WorkStruct {
  return table.alloc(name, container);
}

export function work_free(w: WorkStruct): void {
  WARN(
    work_pending(w) || running_pool(w) >= 0,
    'work_free',
    `work_free: ${w.name} is still pending or running (cancel_work_sync it first)`,
  );
  table.free(w.id);
}

// ---------------------------------------------------------------------------------------------
// Pools: pool number = cpu * 2 + highpri.

const poolHead = (pool: number): number =>
  layout().cpu(pool >> 1) + ((pool & 1) !== 0 ? C_BH_HI_HEAD : C_BH_HEAD);
const poolCurrent = (pool: number): number => poolHead(pool) + 2;

function pool_lock(cpu: number): number {
  return word_lock_irqsave(layout().cpu(cpu) + C_BH_LOCK);
}

export function pool_unlock(cpu: number, flags: number): void {
  word_unlock_irqrestore(layout().cpu(cpu) + C_BH_LOCK, flags);
}

/** The pool whose worker runs this work now, or -1. */
function running_pool(w: WorkStruct): number {
  const last = READ_ONCE(w.addr + WK_POOL);
  if (last >= 0 && READ_ONCE(poolCurrent(last)) === w.ptr) return last;
  return -1;
}

function append(pool: number, w: WorkStruct): void {
  const head = poolHead(pool);
  WRITE_ONCE(w.addr + WK_NEXT, 0);
  const tail = READ_ONCE(head + 1);
  if (tail === 0) WRITE_ONCE(head, w.ptr);
  else WRITE_ONCE(from_ptr(tail).addr + WK_NEXT, w.ptr);
  WRITE_ONCE(head + 1, w.ptr);
  WRITE_ONCE(w.addr + WK_POOL, pool);
}

/** Unlinks it from its pool's worklist if it is there (the pool's lock is held). */
function unlink(pool: number, w: WorkStruct): boolean {
  const head = poolHead(pool);
  let prev = 0;
  for (let p = READ_ONCE(head); p !== 0; p = READ_ONCE(from_ptr(p).addr + WK_NEXT)) {
    if (p === w.ptr) {
      const next = READ_ONCE(w.addr + WK_NEXT);
      if (prev === 0) WRITE_ONCE(head, next);
      else WRITE_ONCE(from_ptr(prev).addr + WK_NEXT, next);
      if (READ_ONCE(head + 1) === p) WRITE_ONCE(head + 1, prev);
      WRITE_ONCE(w.addr + WK_NEXT, 0);
      return true;
    }
    prev = p;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The algorithm, as replaceable pieces (harness mutants swap one of them at boot).

/**
 * __queue_work after PENDING was won: on the target CPU's pool, unless the work is running on
 * another pool of the same priority right now, in which case it goes there (non-reentrancy, W1).
 */
function insert(w: WorkStruct, cpu: number, hi: boolean): void {
  let pool = cpu * 2 + (hi ? 1 : 0);
  const last = READ_ONCE(w.addr + WK_POOL);
  let lockCpu = cpu;
  let flags: number;
  if (last >= 0 && last !== pool && workOps.reentrancy_check) {
    flags = pool_lock(last >> 1);
    if (READ_ONCE(poolCurrent(last)) === w.ptr) {
      pool = last;
      lockCpu = last >> 1;
    } else {
      pool_unlock(last >> 1, flags);
      flags = pool_lock(cpu);
    }
  } else {
    flags = pool_lock(cpu);
  }
  if (lockCpu !== this_cpu.id && !cpu_online(lockCpu)) {
    // The target went offline after queue_work_on looked (its pools are, or are being, handed
    // over): the work goes to this CPU, as the kernel runs it on a live one.
    pool_unlock(lockCpu, flags);
    pool = this_cpu.id * 2 + (hi ? 1 : 0);
    lockCpu = this_cpu.id;
    flags = pool_lock(lockCpu);
  }
  append(pool, w);
  trace.workqueue_queue_work?.(w.id, hi, pool >> 1);
  if (pool >> 1 === this_cpu.id) {
    // kick_bh_pool: raise this CPU's vector (interrupts are off under the pool lock).
    raise_softirq_irqoff(hi ? HI_SOFTIRQ : TASKLET_SOFTIRQ);
    pool_unlock(lockCpu, flags);
  } else {
    pool_unlock(lockCpu, flags);
    raise_remote(pool >> 1, hi);
  }
}

/**
 * kick_bh_pool on another CPU: the kernel queues an irq_work there; here the function-call IPI,
 * whose handler calls kick_bh_pools on that CPU.
 */
function raise_remote(cpu: number, _hi: boolean): void {
  raise_irq(cpu, CALL_FUNCTION_IRQ);
}

/** In a hard interrupt on this CPU: raises the vector of each pool that has work queued. */
export function kick_bh_pools(): void {
  const base = this_cpu.base;
  if (raw_load(base + C_BH_HEAD) !== 0) __raise_softirq_irqoff(TASKLET_SOFTIRQ);
  if (raw_load(base + C_BH_HI_HEAD) !== 0) __raise_softirq_irqoff(HI_SOFTIRQ);
}

/** queue_work_on: false if it was already pending, or disabled (then it is dropped). */
function queue(w: WorkStruct, cpu: number, hi: boolean): boolean {
  if (test_and_set_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE)) return false;
  if (workOps.disabled(w)) {
    // clear_pending_if_disabled: a disabled work item is not queued, and nothing remembers it.
    test_and_clear_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE);
    return false;
  }
  insert(w, cpu, hi);
  return true;
}

/** bh_worker for one pool of this CPU: runs its worklist in order, bounded like the softirq. */
function run_pool(hi: boolean): void {
  const cpu = this_cpu.id;
  const pool = cpu * 2 + (hi ? 1 : 0);
  const head = poolHead(pool);
  if (raw_load(head) === 0) return; // nothing queued: no lock, no decision point
  const end = jiffies() + msecs_to_jiffies(BH_WORKER_MS);
  let restarts = BH_WORKER_RESTARTS;
  let flags = pool_lock(cpu);
  for (;;) {
    const p = READ_ONCE(head);
    if (p === 0) break;
    if (--restarts < 0 || !time_before(jiffies(), end)) {
      // More work than one pass may do: the rest runs at the next softirq pass.
      __raise_softirq_irqoff(hi ? HI_SOFTIRQ : TASKLET_SOFTIRQ);
      break;
    }
    const w = from_ptr(p);
    unlink(pool, w);
    flags = workOps.process_one_work(pool, w, flags);
  }
  pool_unlock(cpu, flags);
}

/**
 * process_one_work, the pool locked on entry and exit: the work becomes the pool's current work,
 * the run is counted, PENDING is cleared before its function runs (so it may be queued again meanwhile: it will then
 * run once more, here, after this run), and flushers are woken once it returns.
 */
function process_one_work(pool: number, w: WorkStruct, flags: number): number {
  claim_work(pool, w);
  test_and_clear_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE);
  pool_unlock(pool >> 1, flags);
  call_work_fn(w);
  return finish_work(pool, w);
}

/** The work becomes the pool's current work (the pool is locked). */
export function claim_work(pool: number, w: WorkStruct): void {
  WRITE_ONCE(poolCurrent(pool), w.ptr);
  // The run is counted before PENDING goes: a flush_work that finds PENDING clear then counts
  // this run as started, and waits for it (counted after, a flush in between waited for none).
  atomic_inc(w.addr + WK_STARTED);
}

/** Calls the work's function with the pool unlocked; a throw is an oops. */
export function call_work_fn(w: WorkStruct): void {
  const funcId = plain_read(w.addr + WK_FUNC);
  kasan_unloaded_text(funcId, 'process_one_work', () => `work ${w.name}`); // work its module left queued
  const fn = callback_by_id(funcId) as WorkFunc | undefined;
  plain_inc(this_cpu.base + C_BH_RUNS);
  trace.workqueue_execute_start?.(w.id);
  try {
    fn?.(w);
  } catch (error) {
    oops(error, 'softirq (BH work)', `work ${w.name}`);
  }
  trace.workqueue_execute_end?.(w.id);
}

/** After the function: the pool locked again, no current work, the run finished, waiters woken. */
export function finish_work(pool: number, w: WorkStruct): number {
  const again = pool_lock(pool >> 1);
  WRITE_ONCE(poolCurrent(pool), 0);
  atomic_inc(w.addr + WK_FINISHED);
  workOps.wake_waiters(w);
  return again;
}

/**
 * try_to_grab_pending: takes PENDING away from a queued work item (removing it from its
 * worklist) or from nobody; true if it was pending. Afterwards this caller owns PENDING.
 */
function grab_pending(w: WorkStruct): boolean {
  for (;;) {
    if (!test_and_set_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE)) return false;
    // Pending: either on a worklist (take it off) or between winning PENDING and being inserted.
    const pool = READ_ONCE(w.addr + WK_POOL);
    if (pool >= 0) {
      const flags = pool_lock(pool >> 1);
      const found = READ_ONCE(w.addr + WK_POOL) === pool && unlink(pool, w);
      pool_unlock(pool >> 1, flags);
      if (found) return true;
    }
    cpu_relax();
  }
}

/** Waits until the work's current run (if any) has returned. */
function wait_running(w: WorkStruct): void {
  const mayBlock = !in_atomic() && !this_cpu.irqsOff;
  const finished = raw_load(w.addr + WK_FINISHED);
  wait_until(w.addr + WK_WAITERS, () => running_pool(w) < 0, WaitKind.WorkFlush, mayBlock, {
    // Raw reads: checking for a lost wake-up is no decision point of a controlled run.
    woken: () => raw_load(w.addr + WK_FINISHED) !== finished,
    what: () =>
      `the wait of cancel_work_sync/disable_work_sync for ${w.name}'s run: it returned with no wake-up`,
  });
}

/** The replaceable pieces. Correct code only; harness mutants swap entries at boot. */
export const workOps = {
  queue,
  /** Whether queueing must fail: the disable depth is above 0. */
  disabled: (w: WorkStruct): boolean => atomic_read(w.addr + WK_DISABLE) > 0,
  /** Whether __queue_work looks for the pool that runs the work now (non-reentrancy). */
  reentrancy_check: true,
  process_one_work,
  /** After a run: wakes the flushers and _sync cancellers sleeping on it. */
  wake_waiters: (w: WorkStruct): void => wake_up_waiters(w.addr + WK_WAITERS),
  run_pool,
  wait_running,
  /**
   * The run count flush_work waits for: the run the pending queueing asked for (one more than
   * have started), or the run in progress.
   */
  flush_target: (pending: boolean, started: number): number => (pending ? started + 1 : started),
};

// ---------------------------------------------------------------------------------------------
// The API.

function check_init(w: WorkStruct, caller: string): boolean {
  if (plain_read(w.addr + WK_FUNC) >= 0) return true;
  WARN(true, caller, `${caller}: ${w.name} was never initialised (INIT_WORK)`);
  return false;
}

/** INIT_WORK(work, fn): idle, enabled, with its function. */
export function INIT_WORK(w: WorkStruct, fn: WorkFunc): void {
  const id = callback_id(fn, 'INIT_WORK');
  atomic_set(w.addr + WK_STATE, 0);
  atomic_set(w.addr + WK_DISABLE, 0);
  WRITE_ONCE(w.addr + WK_NEXT, 0);
  atomic_set(w.addr + WK_FUNC, id);
}

/** from_work(var, work, field): the struct the work item is embedded in (its `container`). */
export function from_work(w: WorkStruct): number {
  return raw_load(w.addr + WK_CONTAINER);
}

export function work_pending(w: WorkStruct): boolean {
  return (READ_ONCE(w.addr + WK_STATE) & (1 << WORK_STRUCT_PENDING)) !== 0;
}

/** Whether its function runs on some CPU right now (work_busy's WORK_BUSY_RUNNING). */
export function work_running(w: WorkStruct): boolean {
  return running_pool(w) >= 0;
}

/** rmmod: a work item of the module still queued or running runs (on) its freed text. */
on_module_unload(function works_left_queued(m, text): void {
  for (const { id, isStatic, func } of table.in_text(text)) {
    const w = work_from_id(id);
    const state = work_running(w) ? 'running' : work_pending(w) ? 'queued' : null;
    if (state === null) continue;
    kasan_left_armed_at_exit(m, {
      caller: 'process_one_work',
      addr: w.addr,
      words: WORK_STRIDE,
      struct: 'work_struct',
      isStatic,
      line: `work ${w.name} is still ${state} as module '${m.name}' exits: its BH worker runs ${callback_name(func)}, text of the unloaded module (cancel_work_sync it in the exit path)`,
    });
  }
});

/** queue_work_on(cpu, wq, work): false if already pending or disabled. */
export function queue_work_on(cpu: number, wq: WorkqueueStruct, w: WorkStruct): boolean {
  requireCpu('queue_work_on');
  if (!check_init(w, 'queue_work_on')) return false;
  return queue_irqsave(w, cpu, wq.highpri);
}

/** queue_work(wq, work): on this CPU. */
export function queue_work(wq: WorkqueueStruct, w: WorkStruct): boolean {
  requireCpu('queue_work');
  if (!check_init(w, 'queue_work')) return false;
  return queue_irqsave(w, this_cpu.id, wq.highpri);
}

/**
 * PENDING is won and the work inserted with interrupts off: an interrupt in between that
 * cancelled the same item here would spin on a PENDING that no worklist holds.
 */
function queue_irqsave(w: WorkStruct, cpu: number, hi: boolean): boolean {
  const flags = local_irq_save();
  const queued = workOps.queue(w, cpu_online(cpu) ? cpu : this_cpu.id, hi);
  local_irq_restore(flags);
  return queued;
}

export function schedule_work(w: WorkStruct): boolean {
  return queue_work(system_bh_wq, w);
}

/**
 * flush_work: waits until the run the last queueing asked for has finished (or, if it is not
 * pending, the run in progress). True if it waited for something.
 */
export function flush_work(w: WorkStruct): boolean {
  requireCpu('flush_work');
  // PENDING before the run count: a run that starts in between makes us wait for one more run
  // at worst (or until it is idle), never for one less.
  const pending = work_pending(w);
  const started = atomic_read(w.addr + WK_STARTED);
  const running = running_pool(w) >= 0;
  if (!pending && !running) return false;
  const target = workOps.flush_target(pending, started);
  const mayBlock = !in_atomic() && !this_cpu.irqsOff;
  wait_until(
    w.addr + WK_WAITERS,
    () => atomic_read(w.addr + WK_FINISHED) - target >= 0 || (!work_pending(w) && running_pool(w) < 0),
    WaitKind.WorkFlush,
    mayBlock,
    {
      woken: () => raw_load(w.addr + WK_FINISHED) - target >= 0,
      what: () => `flush_work(${w.name}): the run it waits for returned with no wake-up`,
    },
  );
  return true;
}

/**
 * __cancel_work(_sync), as since 6.10: takes PENDING and the work off its worklist with
 * interrupts off, one more disable (for the wait of a _sync cancel too, so that nothing queues
 * it meanwhile), gives PENDING back, and only then waits for a run in progress; a plain
 * cancel_work_sync enables it again at the end. True if it was pending.
 * Holding PENDING across the wait would make a second canceller (an interrupt on the CPU that
 * runs the work, say) spin on it forever while this one waits for that very run.
 */
function cancel(w: WorkStruct, disable: boolean, sync: boolean): boolean {
  const flags = local_irq_save();
  const was = grab_pending(w);
  if (disable || sync) atomic_inc(w.addr + WK_DISABLE);
  test_and_clear_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE);
  local_irq_restore(flags);
  if (sync) workOps.wait_running(w);
  if (sync && !disable) atomic_dec_return(w.addr + WK_DISABLE);
  return was;
}

/** cancel_work: takes it off its worklist; true if it was pending. It may still be running. */
export function cancel_work(w: WorkStruct): boolean {
  requireCpu('cancel_work');
  return cancel(w, false, false);
}

/** cancel_work_sync: not pending and not running anywhere on return; true if it was pending. */
export function cancel_work_sync(w: WorkStruct): boolean {
  requireCpu('cancel_work_sync');
  return cancel(w, false, true);
}

/** disable_work: one more disable, and cancelled; true if it was pending. */
export function disable_work(w: WorkStruct): boolean {
  requireCpu('disable_work');
  return cancel(w, true, false);
}

/** disable_work_sync: disable_work, then waits for a run in progress. */
export function disable_work_sync(w: WorkStruct): boolean {
  requireCpu('disable_work_sync');
  return cancel(w, true, true);
}

/** enable_work: one disable less; true if it is now enabled. Queues nothing. */
export function enable_work(w: WorkStruct): boolean {
  requireCpu('enable_work');
  const left = atomic_dec_return(w.addr + WK_DISABLE);
  if (WARN(left < 0, 'enable_work', `enable_work: ${w.name} was not disabled (unbalanced enable)`)) {
    atomic_inc(w.addr + WK_DISABLE);
    return true;
  }
  return left === 0;
}

/** workqueue_softirq_action(highpri): called first by tasklet_action / tasklet_hi_action. */
export function workqueue_softirq_action(highpri: boolean): void {
  workOps.run_pool(highpri);
}

/** Empty pools at bring-up. */
export function init_bh_pools(): void {
  const base = this_cpu.base;
  raw_store(base + C_BH_LOCK, 0);
  for (const head of [C_BH_HEAD, C_BH_HI_HEAD]) {
    raw_store(base + head, 0);
    raw_store(base + head + 1, 0);
    raw_store(base + head + 2, 0);
  }
}

/**
 * workqueue_softirq_dead(dead): the dead CPU's queued BH work moves to this CPU's pools, in
 * order, and the vectors are raised. (The kernel drains the dead pool with a work item on a live
 * CPU; what the work items see is the same: they run on a live CPU, in order.)
 */
export function workqueue_softirq_dead(dead: number): void {
  const me = this_cpu.id;
  if (dead === me) return;
  const flags = pool_lock(me);
  const lock = layout().cpu(dead) + C_BH_LOCK;
  word_lock_nested(lock);
  const moved = [false, false];
  for (const hi of [0, 1]) {
    const from = dead * 2 + hi;
    const head = poolHead(from);
    for (let p = READ_ONCE(head); p !== 0; p = READ_ONCE(head)) {
      const w = from_ptr(p);
      unlink(from, w);
      append(me * 2 + hi, w);
      moved[hi] = true;
    }
    WRITE_ONCE(poolCurrent(from), 0);
  }
  word_unlock_nested(lock);
  if (moved[0]) raise_softirq_irqoff(TASKLET_SOFTIRQ);
  if (moved[1]) raise_softirq_irqoff(HI_SOFTIRQ);
  pool_unlock(me, flags);
}
