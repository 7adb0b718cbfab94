/**
 * struct completion (kernel/sched/completion.c) on one field of a module's shared data: `done`,
 * the count of complete() calls not yet consumed, or COMPLETE_ALL after complete_all(). The
 * waiter is a task (a generator: `yield* wait_for_completion(dev, 'done')`); complete() may come
 * from any context on any CPU, a tasklet or an interrupt handler most often.
 *
 *   const dev = DEFINE_SHARED('dev', { done: 0 });
 *   // irq handler or tasklet:  complete(dev, 'done');
 *   // task:                    yield* wait_for_completion(dev, 'done');
 *
 * A waiter sleeps on this CPU's wait queue with "done is not 0" as its condition, and takes one
 * completion when it wakes; a complete() from another CPU kicks every other online CPU, whose
 * next pick re-checks its sleepers (the kernel's try_to_wake_up sends the waiter's CPU an IPI).
 */
import { this_cpu } from './percpu.ts';
import { type TaskBody, WaitQueueHead, wait_event, wake_up } from './sched.ts';
import { atomic_cmpxchg, atomic_read, atomic_set, type SharedObject } from './shared-data.ts';
import { jiffies } from './tick.ts';
import { wait_event_timeout } from './timeout.ts';
import { might_sleep } from './wait.ts';
import { kick_other_cpus } from './wake.ts';

/** complete_all()'s UINT_MAX: every waiter passes, now and later, until reinit_completion. */
export const COMPLETE_ALL = 0x7fffffff;

/** This CPU's sleepers on any completion (tasks do not migrate, so a CPU-local queue). */
const waiters = new WaitQueueHead();

/** init_completion(&dev->x): not done, no waiter passes. */
export function init_completion<K extends string>(obj: SharedObject<K>, field: K): void {
  atomic_set(obj, field, 0);
}

/** reinit_completion: done back to 0, for reuse (the kernel's leaves the wait queue alone too). */
export const reinit_completion = init_completion;

function wake_waiters(): void {
  wake_up(waiters);
  kick_other_cpus(this_cpu.id);
}

/** complete(&x): lets one waiter (now or the next to come) through. */
export function complete<K extends string>(obj: SharedObject<K>, field: K): void {
  for (;;) {
    const done = atomic_read(obj, field);
    if (done === COMPLETE_ALL || atomic_cmpxchg(obj, field, done, done + 1) === done) break;
  }
  wake_waiters();
}

/** complete_all(&x): lets every waiter through, and every later one until reinit_completion. */
export function complete_all<K extends string>(obj: SharedObject<K>, field: K): void {
  atomic_set(obj, field, COMPLETE_ALL);
  wake_waiters();
}

/** try_wait_for_completion: takes one completion if there is one, without sleeping. */
export function try_wait_for_completion<K extends string>(obj: SharedObject<K>, field: K): boolean {
  for (;;) {
    const done = atomic_read(obj, field);
    if (done === 0) return false;
    if (done === COMPLETE_ALL || atomic_cmpxchg(obj, field, done, done - 1) === done) return true;
  }
}

/** completion_done: whether a wait would pass now (it does not take the completion). */
export function completion_done<K extends string>(obj: SharedObject<K>, field: K): boolean {
  return atomic_read(obj, field) !== 0;
}

/**
 * wait_for_completion: sleeps until a completion is there and takes it. From atomic context it
 * is the kernel's "sleeping function called from invalid context" (and then waits anyway).
 */
export function* wait_for_completion<K extends string>(obj: SharedObject<K>, field: K): TaskBody<void> {
  might_sleep('wait_for_completion');
  while (!try_wait_for_completion(obj, field)) yield* wait_event(waiters, () => completion_done(obj, field));
}

/**
 * wait_for_completion_timeout: as wait_for_completion, for at most `timeout` jiffies. Returns 0
 * if it timed out, else the jiffies left (at least 1).
 */
export function* wait_for_completion_timeout<K extends string>(
  obj: SharedObject<K>,
  field: K,
  timeout: number,
): TaskBody<number> {
  might_sleep('wait_for_completion_timeout');
  const end = jiffies() + timeout;
  for (;;) {
    if (try_wait_for_completion(obj, field)) return Math.max(1, (end - jiffies()) | 0);
    const left = (end - jiffies()) | 0;
    if (left <= 0) return 0;
    yield* wait_event_timeout(waiters, () => completion_done(obj, field), left);
  }
}

/** No signals here: the interruptible and killable waits never return -ERESTARTSYS. */
export function* wait_for_completion_interruptible<K extends string>(
  obj: SharedObject<K>,
  field: K,
): TaskBody<number> {
  yield* wait_for_completion(obj, field);
  return 0;
}

export const wait_for_completion_killable = wait_for_completion_interruptible;
export const wait_for_completion_interruptible_timeout = wait_for_completion_timeout;
