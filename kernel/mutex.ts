/**
 * struct mutex (kernel/locking/mutex.c) on one field of a module's shared data: 0 when free, else
 * its owner (the task and its CPU: tasks do not migrate, and every CPU's idle task is pid 0).
 * A sleeping lock for process context: `yield* mutex_lock(dev, 'lock')` in a task.
 *
 *   const dev = DEFINE_SHARED('dev', { lock: 0, ... });
 *   yield* mutex_lock(dev, 'lock'); ...; mutex_unlock(dev, 'lock');
 *
 * A waiter sleeps on this CPU's queue with "the mutex is free" as its condition and tries again
 * when it wakes; mutex_unlock kicks the other online CPUs, as complete() does. With
 * CONFIG_DEBUG_MUTEXES' checks: locking from atomic context (might_sleep), an unlock by a task
 * that does not hold it.
 */
import { this_cpu } from './percpu.ts';
import { WARN } from './printk.ts';
import { current, type TaskBody, WaitQueueHead, wait_event, wake_up } from './sched.ts';
import { atomic_cmpxchg, atomic_read, atomic_set, type SharedObject } from './shared-data.ts';
import { might_sleep } from './wait.ts';
import { kick_other_cpus } from './wake.ts';

const waiters = new WaitQueueHead();

/** The owner word of the current task on this CPU (never 0). */
function me(): number {
  return current().pid * 256 + this_cpu.id + 1;
}

/** mutex_init(&dev->lock): unlocked. */
export function mutex_init<K extends string>(obj: SharedObject<K>, field: K): void {
  atomic_set(obj, field, 0);
}

export function mutex_is_locked<K extends string>(obj: SharedObject<K>, field: K): boolean {
  return atomic_read(obj, field) !== 0;
}

/** mutex_trylock: 1 if it took the mutex, 0 if someone holds it (it never sleeps). */
export function mutex_trylock<K extends string>(obj: SharedObject<K>, field: K): number {
  return atomic_cmpxchg(obj, field, 0, me()) === 0 ? 1 : 0;
}

/** mutex_lock: takes the mutex, sleeping while another task holds it. */
export function* mutex_lock<K extends string>(obj: SharedObject<K>, field: K): TaskBody<void> {
  might_sleep('mutex_lock');
  while (mutex_trylock(obj, field) === 0) yield* wait_event(waiters, () => !mutex_is_locked(obj, field));
}

/** No signals here: the interruptible and killable forms always get the mutex (0). */
export function* mutex_lock_interruptible<K extends string>(
  obj: SharedObject<K>,
  field: K,
): TaskBody<number> {
  yield* mutex_lock(obj, field);
  return 0;
}

export const mutex_lock_killable = mutex_lock_interruptible;

/**
 * mutex_unlock. Only its owner may unlock it: another task's unlock is DEBUG_MUTEXES' warning
 * (and, as the kernel does, it is unlocked anyway).
 */
export function mutex_unlock<K extends string>(obj: SharedObject<K>, field: K): void {
  const owner = atomic_read(obj, field);
  WARN(
    owner !== me(),
    'kernel/locking/mutex.c:__mutex_unlock_slowpath',
    `DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)${owner === 0 ? ' (not locked)' : ''}`,
  );
  atomic_set(obj, field, 0);
  wake_up(waiters);
  kick_other_cpus(this_cpu.id);
}
