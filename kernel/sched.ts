/**
 * A small per-CPU scheduler for process context: the idle task, ksoftirqd and the tasks that
 * modules start. Tasks are generators: `yield` is schedule(), so a task gives the CPU away only
 * where kernel code would (cond_resched, wait_event). Each CPU runs its own tasks; tasks do not
 * migrate.
 */

import { publish_comm } from '../shm/comm.ts';
import { plain_write, raw_add, raw_load } from '../shm/door.ts';
import { C_CURRENT_PID, C_NR_RUNNING, G_JIFFIES, G_NEXT_PID } from '../shm/layout.ts';
import { this_cpu } from './percpu.ts';

export type TaskBody<T = unknown> = Generator<unknown, T, unknown>;
export type TaskFn = (arg?: unknown) => TaskBody;

export enum TaskState {
  Running = 0, // TASK_RUNNING: on the run queue
  Sleeping = 1, // TASK_INTERRUPTIBLE
  Dead = 2,
}

export class Task {
  state = TaskState.Running;
  /** jiffies when it last became runnable (for the low-priority class). */
  runnableSince = 0;
  /** wait_event condition while sleeping on a wait queue (re-checked at every pick). */
  waitCondition: (() => boolean) | null = null;
  constructor(
    readonly pid: number,
    readonly comm: string,
    readonly body: TaskBody | null,
    /**
     * Nice 19, as ksoftirqd was in the 2.6 kernels LDD3 describes: it gives way to other
     * runnable tasks until it has waited a full tick.
     */
    readonly lowPriority = false,
  ) {}
}

export const FIRST_DYNAMIC_PID = 1000;
export const KSOFTIRQD_PID_BASE = 10;

const runqueue: Task[] = [];
let cursor = 0;
let idle = new Task(0, 'swapper', null);

/**
 * A controlled run starts from a quiet CPU: picking from the head of the run queue, and with
 * no reschedule pending (a stale flag from before would cut its first softirq restarts short).
 */
export function reset_for_controlled_run(): void {
  cursor = 0;
  this_cpu.needResched = false;
}
let currentTask: Task = idle;

/** The kernel's `current`. */
export function current(): Task {
  return currentTask;
}

export function idle_task(): Task {
  return idle;
}

export function set_current(task: Task): void {
  currentTask = task;
  plain_write(this_cpu.base + C_CURRENT_PID, task.pid);
}

export function init_idle(cpu: number): void {
  idle = new Task(0, `swapper/${cpu}`, null);
  set_current(idle);
}

export function alloc_pid(): number {
  return raw_add(G_NEXT_PID, 1);
}

/** Creates a task on this CPU and makes it runnable (kthread_run, or a user process). */
export function kthread_run(fn: TaskFn, comm: string, pid = alloc_pid(), lowPriority = false): Task {
  const task = new Task(pid, comm, fn(), lowPriority);
  publish_comm(pid, comm);
  task.runnableSince = jiffiesNow();
  runqueue.push(task);
  updateNrRunning();
  // wake_up_new_task's resched_curr: made in an interrupt on the way into idle, it runs now.
  if (currentTask === idle) this_cpu.needResched = true;
  return task;
}

export function wake_up_process(task: Task): boolean {
  if (task.state !== TaskState.Sleeping) return false;
  task.state = TaskState.Running;
  task.runnableSince = jiffiesNow();
  updateNrRunning();
  // resched_curr(idle): an interrupt taken on the way into idle woke someone; don't sleep on it.
  if (currentTask === idle) this_cpu.needResched = true;
  return true;
}

export function set_current_state(state: TaskState): void {
  currentTask.state = state;
}

export function need_resched(): boolean {
  return this_cpu.needResched;
}

/** Timer tick: the running task's slice (one tick) is over if someone else can run. */
export function scheduler_tick(): void {
  if (currentTask !== idle && nextRunnable(false) !== null) this_cpu.needResched = true;
}

/** Round-robin pick after the last task run; wakes wait_event sleepers whose condition holds. */
export function pick_next_task(): Task | null {
  return nextRunnable(true);
}

function nextRunnable(wakeWaiters: boolean): Task | null {
  const n = runqueue.length;
  const now = jiffiesNow();
  let fallback = -1;
  for (let i = 0; i < n; i++) {
    const task = runqueue[(cursor + i) % n];
    if (task === currentTask && !wakeWaiters) continue;
    if (wakeWaiters && task.state === TaskState.Sleeping && task.waitCondition?.()) wake_up_process(task);
    if (task.state !== TaskState.Running) continue;
    if (task.lowPriority && ((now - task.runnableSince) | 0) < 1) {
      if (fallback < 0) fallback = i;
      continue;
    }
    return chosen(i, wakeWaiters);
  }
  return fallback < 0 ? null : chosen(fallback, wakeWaiters);
}

function chosen(offset: number, advance: boolean): Task {
  const index = (cursor + offset) % runqueue.length;
  if (advance) cursor = (index + 1) % runqueue.length;
  return runqueue[index];
}

function jiffiesNow(): number {
  return raw_load(G_JIFFIES);
}

/**
 * Runs one slice of a task: until it yields (schedule()) or ends. The task stays `current` until
 * the next one runs or the CPU idles: an interrupt taken in between hits it inside schedule().
 */
export function run_task(task: Task): void {
  set_current(task);
  this_cpu.needResched = false;
  const step = task.body!.next();
  if (step.done) {
    task.state = TaskState.Dead;
    runqueue.splice(runqueue.indexOf(task), 1);
    if (cursor > runqueue.length) cursor = 0;
    set_current(idle);
  }
  updateNrRunning();
}

/** Every task on this CPU (for reports and the hung-task detector). */
export function tasks(): readonly Task[] {
  return runqueue;
}

function updateNrRunning(): void {
  let n = 0;
  for (const task of runqueue) if (task.state === TaskState.Running) n++;
  plain_write(this_cpu.base + C_NR_RUNNING, n);
}

export class WaitQueueHead {
  readonly sleepers = new Set<Task>();
}

export function init_waitqueue_head(): WaitQueueHead {
  return new WaitQueueHead();
}

/**
 * wait_event(wq, condition), to be used as `yield* wait_event(wq, () => cond)` in a task.
 * The condition is checked after the task is queued (prepare_to_wait), so a wake-up from an
 * interrupt between check and sleep is not lost. A wake-up from another CPU is noticed at this
 * CPU's next pick (at the latest its next tick), because sleepers' conditions are re-checked there.
 */
export function* wait_event(wq: WaitQueueHead, condition: () => boolean): TaskBody<void> {
  const task = currentTask;
  for (;;) {
    task.state = TaskState.Sleeping;
    task.waitCondition = condition;
    wq.sleepers.add(task);
    if (condition()) break;
    yield;
  }
  task.state = TaskState.Running;
  task.waitCondition = null;
  wq.sleepers.delete(task);
}

export const wait_event_interruptible = wait_event;

export function wake_up(wq: WaitQueueHead): void {
  for (const task of wq.sleepers) wake_up_process(task);
}

export const wake_up_interruptible = wake_up;
