/**
 * Tasklets, as kernel/softirq.c has them since 5.13: SCHED and RUN bits in t->state, a disable
 * count, per-CPU FIFO queues touched only by their CPU with interrupts off, and sleeping waits
 * on the state word.
 */
import {
  atomic_dec_return,
  atomic_inc,
  atomic_read,
  atomic_set,
  clear_bit,
  local_read,
  local_write,
  plain_inc,
  plain_read,
  raw_load,
  raw_store,
  test_and_clear_bit,
  test_and_set_bit,
  WRITE_ONCE,
} from '../shm/door.ts';
import {
  C_COALESCED,
  C_DISABLES,
  C_ENABLES,
  C_HI_HEAD,
  C_KILLS,
  C_REQUEUES,
  C_SCHEDULES,
  C_TASKLET_RUNS,
  C_VEC_HEAD,
  T_ALLOC,
  T_COUNT,
  T_DATA,
  T_FUNC,
  T_NEXT,
  T_STATE,
  T_USE_CALLBACK,
  TASKLET_STATE_RUN,
  TASKLET_STATE_SCHED,
  TaskletAlloc,
  WaitKind,
} from '../shm/layout.ts';
import { local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save } from './irqflags.ts';
import {
  kasan_running,
  kasan_tasklet_free,
  kasan_tasklet_kill,
  kasan_tasklet_use_after_free,
  kasan_unloaded_text,
  tasklet_freed,
} from './kasan.ts';
import { oops } from './oops.ts';
import { requireCpu, this_cpu } from './percpu.ts';
import { in_interrupt } from './preempt.ts';
import { pr_notice, WARN_ONCE, WarnOnceSite } from './printk.ts';
import {
  __raise_softirq_irqoff,
  HI_SOFTIRQ,
  open_softirq,
  raise_softirq_irqoff,
  TASKLET_SOFTIRQ,
} from './softirq.ts';
import {
  callback_by_id,
  callback_id,
  callback_name,
  type TaskletCallback,
  type TaskletFunc,
  type TaskletStruct,
  tasklet_from_ptr,
} from './tasklet-table.ts';
import { init_timers } from './timer.ts';
import { trace } from './trace.ts';
import { might_sleep, sleep_until_clear, spin_until_clear, wake_up_var } from './wait.ts';
import { init_bh_pools, workqueue_softirq_action } from './workqueue.ts';

export { TASKLET_STATE_RUN, TASKLET_STATE_SCHED };

/** Which per-CPU queue: the normal tasklet_vec or tasklet_hi_vec. */
interface TaskletQueue {
  /** Offset of {head, tail} in the CPU block. */
  readonly head: number;
  readonly softirq: number;
  readonly hi: boolean;
}

export const tasklet_vec: TaskletQueue = { head: C_VEC_HEAD, softirq: TASKLET_SOFTIRQ, hi: false };
export const tasklet_hi_vec: TaskletQueue = { head: C_HI_HEAD, softirq: HI_SOFTIRQ, hi: true };

const counter = (offset: number): void => {
  plain_inc(this_cpu.base + offset);
};

// ---------------------------------------------------------------------------------------------
// The algorithm, as replaceable pieces (bug injection swaps one of them at boot).

/** `*head->tail = t; head->tail = &t->next;` on the given CPU's queue; interrupts must be off. */
export function queue_append(cpuBase: number, queue: TaskletQueue, t: TaskletStruct): void {
  // CPU-local accesses (shm/door.ts): the queue and the links of what is on it are this CPU's.
  const tail = cpuBase + queue.head + 1;
  local_write(t.addr + T_NEXT, 0);
  local_write(local_read(tail), t.id + 1);
  local_write(tail, t.addr + T_NEXT);
}

/** __tasklet_schedule_common: append to this CPU's queue with interrupts off, raise the softirq. */
function schedule_common(t: TaskletStruct, queue: TaskletQueue): void {
  const flags = local_irq_save();
  queue_append(this_cpu.base, queue, t);
  raise_softirq_irqoff(queue.softirq);
  local_irq_restore(flags);
}

/** tasklet_schedule / tasklet_hi_schedule: only the caller that sets SCHED queues it. */
function schedule(t: TaskletStruct, queue: TaskletQueue): void {
  if (!test_and_set_bit(TASKLET_STATE_SCHED, t.addr + T_STATE)) {
    counter(C_SCHEDULES);
    trace.tasklet_schedule?.(t.id, queue.hi, true);
    taskletOps.schedule_common(t, queue);
  } else {
    counter(C_COALESCED);
    trace.tasklet_schedule?.(t.id, queue.hi, false);
  }
}

/** Takes this CPU's whole queue with interrupts off; returns its first entry (a tasklet pointer). */
export function queue_splice(queue: TaskletQueue): number {
  const head = this_cpu.base + queue.head;
  local_irq_disable();
  const list = local_read(head);
  local_write(head, 0);
  local_write(head + 1, head);
  local_irq_enable();
  return list;
}

/** tasklet_action_common: splice the queue out, run what is runnable, put the rest back. */
function action_common(queue: TaskletQueue): void {
  let list = queue_splice(queue);
  while (list !== 0) {
    const t = tasklet_from_ptr(list);
    // Still this CPU's until SCHED is cleared below: the link is read before that.
    list = local_read(t.addr + T_NEXT);
    if (tasklet_trylock(t)) {
      if (atomic_read(t.addr + T_COUNT) === 0) {
        if (tasklet_clear_sched(t)) run_tasklet(t);
        tasklet_unlock(t);
        continue;
      }
      tasklet_unlock(t);
    }
    requeue(t, queue);
  }
}

/** Back to the tail, softirq re-raised: it runs again at a later pass. */
export function requeue(t: TaskletStruct, queue: TaskletQueue): void {
  local_irq_disable();
  queue_append(this_cpu.base, queue, t);
  __raise_softirq_irqoff(queue.softirq);
  local_irq_enable();
  counter(C_REQUEUES);
  trace.tasklet_requeue?.(t.id, queue.hi);
}

/** Calls the tasklet's function; a throw is an oops, and the caller still unlocks RUN. */
export function run_tasklet(t: TaskletStruct): void {
  // KASAN: a tasklet freed while it was queued runs from freed memory.
  const funcId = plain_read(t.addr + T_FUNC);
  if (plain_read(t.addr + T_ALLOC) === TaskletAlloc.Free) use_after_free(t, 'tasklet_action_common', false);
  else kasan_unloaded_text(funcId, 'tasklet_action_common', () => `tasklet ${t.name}`);
  const func = callback_by_id(funcId);
  counter(C_TASKLET_RUNS);
  trace.tasklet_entry?.(t.id);
  kasan_running.tasklet = t.id;
  try {
    if (plain_read(t.addr + T_USE_CALLBACK) !== 0) func!(t);
    else func!(plain_read(t.addr + T_DATA));
  } catch (error) {
    oops(error, 'softirq (tasklet)', `tasklet ${t.name}`);
  }
  kasan_running.tasklet = -1;
  trace.tasklet_exit?.(t.id);
}

/** KASAN's report for a freed tasklet that `caller` touches; false if it was never allocated. */
function use_after_free(t: TaskletStruct, caller: string, write: boolean): boolean {
  if (!tasklet_freed(t.id)) return false;
  kasan_tasklet_use_after_free(t.id, caller, write);
  return true;
}

/**
 * tasklet_unlock_wait: might_sleep() first, whether or not a wait is needed; a caller that made
 * its own check (tasklet_kill) passes its verdict, so one call reports once.
 */
function unlock_wait(t: TaskletStruct, mayBlock = might_sleep('tasklet_unlock_wait')): void {
  sleep_until_clear(t, TASKLET_STATE_RUN, WaitKind.TaskletRunClear, mayBlock);
}

function kill(t: TaskletStruct): void {
  if (in_interrupt()) pr_notice('softirq: Attempt to kill tasklet from interrupt');
  const mayBlock = might_sleep('tasklet_kill');
  while (test_and_set_bit(TASKLET_STATE_SCHED, t.addr + T_STATE)) {
    sleep_until_clear(t, TASKLET_STATE_SCHED, WaitKind.TaskletSchedClear, mayBlock);
  }
  taskletOps.unlock_wait(t, mayBlock);
  tasklet_clear_sched(t);
}

/** The replaceable pieces. Correct code only; harness/mutants swaps entries at boot. */
export const taskletOps = {
  schedule,
  schedule_common,
  action_common,
  unlock_wait,
  kill,
  /** tasklet_disable_nosync's atomic_inc of the count. */
  disable_count: (t: TaskletStruct): void => atomic_inc(t.addr + T_COUNT),
};

// ---------------------------------------------------------------------------------------------
// The API.

/** Scheduling something that is not a live tasklet: warn (machine-wide once) and do nothing. */
function not_schedulable(t: TaskletStruct, caller: string): boolean {
  if (plain_read(t.addr + T_ALLOC) === TaskletAlloc.Free) {
    if (use_after_free(t, caller, true)) return true;
    WARN_ONCE(
      true,
      WarnOnceSite.TaskletSchedFreed,
      caller,
      `${caller}: tasklet #${t.id} is not allocated (freed?)`,
    );
    return true;
  }
  if (plain_read(t.addr + T_FUNC) < 0) {
    WARN_ONCE(
      true,
      WarnOnceSite.TaskletSchedFreed,
      caller,
      `${caller}: tasklet #${t.id} was never initialised`,
    );
    return true;
  }
  return false;
}

export function tasklet_schedule(t: TaskletStruct): void {
  requireCpu('tasklet_schedule');
  if (not_schedulable(t, 'tasklet_schedule')) return;
  taskletOps.schedule(t, tasklet_vec);
}

export function tasklet_hi_schedule(t: TaskletStruct): void {
  requireCpu('tasklet_hi_schedule');
  if (not_schedulable(t, 'tasklet_hi_schedule')) return;
  taskletOps.schedule(t, tasklet_hi_vec);
}

/** TASKLET_SOFTIRQ's action. */
export function tasklet_action(): void {
  workqueue_softirq_action(false);
  taskletOps.action_common(tasklet_vec);
}

/** HI_SOFTIRQ's action. */
export function tasklet_hi_action(): void {
  workqueue_softirq_action(true);
  taskletOps.action_common(tasklet_hi_vec);
}

/**
 * softirq_init, for this CPU: empty tasklet queues (tail at head) and the two tasklet vectors.
 * The kernel's boot CPU does every CPU's queues; here each CPU does its own at bring-up, before
 * anything can schedule on it (open_softirq's table is per thread anyway).
 */
export function softirq_init(): void {
  for (const queue of [tasklet_vec, tasklet_hi_vec]) {
    const head = this_cpu.base + queue.head;
    raw_store(head, 0);
    raw_store(head + 1, head);
  }
  open_softirq(TASKLET_SOFTIRQ, tasklet_action);
  open_softirq(HI_SOFTIRQ, tasklet_hi_action);
  init_timers();
  init_bh_pools();
}

/** What tasklet_init and tasklet_setup write, in the same order for both. */
function init_tasklet(t: TaskletStruct, funcId: number, useCallback: boolean, data: number): void {
  WRITE_ONCE(t.addr + T_NEXT, 0);
  atomic_set(t.addr + T_STATE, 0);
  atomic_set(t.addr + T_COUNT, 0);
  atomic_set(t.addr + T_FUNC, funcId);
  atomic_set(t.addr + T_USE_CALLBACK, useCallback ? 1 : 0);
  atomic_set(t.addr + T_DATA, data | 0);
}

export function tasklet_init(t: TaskletStruct, func: TaskletFunc, data: number): void {
  init_tasklet(t, callback_id(func, 'tasklet_init'), false, data);
}

export function tasklet_setup(t: TaskletStruct, callback: TaskletCallback): void {
  init_tasklet(t, callback_id(callback, 'tasklet_setup'), true, 0);
}

/** The RUN bit as a lock. */
export function tasklet_trylock(t: TaskletStruct): boolean {
  return !test_and_set_bit(TASKLET_STATE_RUN, t.addr + T_STATE);
}

export function tasklet_unlock(t: TaskletStruct): void {
  clear_bit(TASKLET_STATE_RUN, t.addr + T_STATE);
  wake_up_var(t);
}

export function tasklet_unlock_wait(t: TaskletStruct): void {
  requireCpu('tasklet_unlock_wait');
  taskletOps.unlock_wait(t);
}

export function tasklet_unlock_spin_wait(t: TaskletStruct): void {
  requireCpu('tasklet_unlock_spin_wait');
  spin_until_clear(t, TASKLET_STATE_RUN);
}

/** Clears SCHED before a run (or at the end of a kill); a queued tasklet without it is a bug. */
export function tasklet_clear_sched(t: TaskletStruct): boolean {
  if (test_and_clear_bit(TASKLET_STATE_SCHED, t.addr + T_STATE)) {
    wake_up_var(t);
    return true;
  }
  const kind = plain_read(t.addr + T_USE_CALLBACK) !== 0 ? 'callback' : 'func';
  WARN_ONCE(
    true,
    WarnOnceSite.TaskletSchedNotSet,
    'tasklet_clear_sched',
    `tasklet SCHED state not set: ${kind} ${callback_name(plain_read(t.addr + T_FUNC))}`,
  );
  return false;
}

export function tasklet_disable_nosync(t: TaskletStruct): void {
  requireCpu('tasklet_disable_nosync');
  if (plain_read(t.addr + T_ALLOC) === TaskletAlloc.Free) use_after_free(t, 'tasklet_disable_nosync', true);
  taskletOps.disable_count(t);
  counter(C_DISABLES);
  trace.tasklet_disable?.(t.id);
}

/** Disables and waits (sleeping) until the callback is not running anywhere. */
export function tasklet_disable(t: TaskletStruct): void {
  requireCpu('tasklet_disable');
  tasklet_disable_nosync(t);
  taskletOps.unlock_wait(t);
  trace.tasklet_disable_return?.(t.id);
}

/** For atomic context: disables and spins until the callback is not running anywhere. */
export function tasklet_disable_in_atomic(t: TaskletStruct): void {
  requireCpu('tasklet_disable_in_atomic');
  tasklet_disable_nosync(t);
  spin_until_clear(t, TASKLET_STATE_RUN);
  trace.tasklet_disable_return?.(t.id);
}

/**
 * Raises nothing: a queued tasklet kept its softirq raised and runs at the next pass. An enable
 * without a disable takes the count to -1, as the kernel's atomic_dec does: the tasklet is then
 * requeued by every pass and never runs until a disable brings the count back to 0. A warning
 * says so (a debug kernel's would).
 */
export function tasklet_enable(t: TaskletStruct): void {
  requireCpu('tasklet_enable');
  if (plain_read(t.addr + T_ALLOC) === TaskletAlloc.Free) use_after_free(t, 'tasklet_enable', true);
  counter(C_ENABLES);
  trace.tasklet_enable?.(t.id);
  WARN_ONCE(
    atomic_dec_return(t.addr + T_COUNT) < 0,
    WarnOnceSite.TaskletEnableUnbalanced,
    'tasklet_enable',
    `tasklet_enable: ${t.name} was not disabled (unbalanced enable: count is now negative, it will not run)`,
  );
}

/** Waits until the tasklet is neither scheduled nor running, and leaves it unscheduled. */
export function tasklet_kill(t: TaskletStruct): void {
  requireCpu('tasklet_kill');
  if (plain_read(t.addr + T_ALLOC) === TaskletAlloc.Free) use_after_free(t, 'tasklet_kill', true);
  counter(C_KILLS);
  trace.tasklet_kill?.(t.id);
  taskletOps.kill(t);
  kasan_tasklet_kill(t.id);
  trace.tasklet_kill_return?.(t.id);
}

/** Gives a run-time tasklet's slot back; it must be idle (kill it first). */
export function tasklet_free(t: TaskletStruct): void {
  WARN_ONCE(
    (raw_load(t.addr + T_STATE) & ((1 << TASKLET_STATE_SCHED) | (1 << TASKLET_STATE_RUN))) !== 0,
    WarnOnceSite.TaskletFreeBusy,
    'tasklet_free',
    `tasklet_free: ${t.name} is still scheduled or running (tasklet_kill it first)`,
  );
  kasan_tasklet_free(t.id);
  raw_store(t.addr + T_ALLOC, TaskletAlloc.Free);
}
