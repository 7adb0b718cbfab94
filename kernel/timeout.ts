/**
 * Delays and time for process context, as LDD3 chapter 7 uses them: schedule(),
 * schedule_timeout(), wait_event_interruptible_timeout(), get_jiffies_64() and the wall-clock
 * reads (do_gettimeofday, current_kernel_time, ktime_get_real_ts64).
 *
 * Tasks are generators: `yield* schedule_timeout(delay)` in a task. A sleeping task with a
 * timeout is woken by the scheduler's pick (which re-checks sleepers at every pick, so at the
 * latest at its CPU's next tick) once jiffies reaches the deadline; the kernel arms a
 * process_timeout timer instead. The visible behaviour is the same: the task sleeps, the CPU
 * runs others, it is runnable again at the first tick at or after the deadline.
 */
import { machineMs, wallMs } from '../shm/clock.ts';
import { current, type TaskBody, TaskState, type WaitQueueHead } from './sched.ts';
import { HZ, jiffies, time_after_eq } from './tick.ts';

export const MAX_SCHEDULE_TIMEOUT = Number.MAX_SAFE_INTEGER;

/** schedule(): gives the CPU to the other runnable tasks of this CPU, then carries on. */
export function* schedule(): TaskBody<void> {
  yield;
}

/**
 * schedule_timeout(timeout) after set_current_state(TASK_INTERRUPTIBLE): sleeps `timeout`
 * jiffies. Returns the jiffies left (0: it slept the whole time).
 */
export function* schedule_timeout(timeout: number): TaskBody<number> {
  return yield* sleep_until(() => false, timeout);
}

export const schedule_timeout_interruptible = schedule_timeout;
export const schedule_timeout_uninterruptible = schedule_timeout;

/** msleep(ms): at least `ms` milliseconds, in jiffies, rounded up (plus one, as the kernel adds). */
export function* msleep(ms: number): TaskBody<void> {
  yield* schedule_timeout(Math.ceil((ms * HZ()) / 1000) + 1);
}

/**
 * wait_event_timeout(wq, condition, timeout) / wait_event_interruptible_timeout: sleeps on `wq`
 * until the condition holds or `timeout` jiffies pass. Returns 0 if it timed out with the
 * condition false, else the jiffies left (at least 1).
 */
export function* wait_event_timeout(
  wq: WaitQueueHead,
  condition: () => boolean,
  timeout: number,
): TaskBody<number> {
  const task = current();
  wq.sleepers.add(task);
  try {
    const left = yield* sleep_until(condition, timeout);
    return condition() ? Math.max(1, left) : 0;
  } finally {
    wq.sleepers.delete(task);
  }
}

export const wait_event_interruptible_timeout = wait_event_timeout;

function* sleep_until(condition: () => boolean, timeout: number): TaskBody<number> {
  const task = current();
  const end = jiffies() + timeout;
  const done = (): boolean => condition() || time_after_eq(jiffies(), end);
  try {
    while (!condition() && !time_after_eq(jiffies(), end)) {
      task.state = TaskState.Sleeping;
      task.waitCondition = done;
      yield;
    }
  } finally {
    task.state = TaskState.Running;
    task.waitCondition = null;
  }
  return Math.max(0, end - jiffies());
}

/** get_jiffies_64(): jiffies is 64 bits wide here already. */
export function get_jiffies_64(): number {
  return jiffies();
}

export interface Timespec64 {
  tv_sec: number;
  tv_nsec: number;
}

export interface Timeval {
  tv_sec: number;
  tv_usec: number;
}

/** ktime_get_real_ts64: the wall clock now, to the nanosecond the host gives. */
export function ktime_get_real_ts64(): Timespec64 {
  const ms = wallMs();
  const sec = Math.floor(ms / 1000);
  return { tv_sec: sec, tv_nsec: Math.floor((ms - sec * 1000) * 1e6) };
}

/** do_gettimeofday (LDD3 era): the wall clock in microseconds. */
export function do_gettimeofday(): Timeval {
  const ts = ktime_get_real_ts64();
  return { tv_sec: ts.tv_sec, tv_usec: Math.floor(ts.tv_nsec / 1000) };
}

/** current_kernel_time / ktime_get_coarse_real_ts64: the wall clock as of the last tick. */
export function current_kernel_time(): Timespec64 {
  const tickMs = 1000 / HZ();
  const sinceTick = machineMs() % tickMs;
  const ms = wallMs() - sinceTick;
  const sec = Math.floor(ms / 1000);
  return { tv_sec: sec, tv_nsec: Math.floor((ms - sec * 1000) * 1e6) };
}

export const ktime_get_coarse_real_ts64 = current_kernel_time;
