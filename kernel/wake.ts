/** Waking a CPU that sleeps on its wake word (idle loop or a sleeping wait), and the controller. */
import { futex_wake, layout, raw_add } from '../shm/door.ts';
import { C_WAKE, G_CPU_EVENTS } from '../shm/layout.ts';
import { cpu_online, nr_cpu_ids } from './cpumask.ts';

/**
 * Tells the controller that this CPU went idle or changed state: what its waits (a drain, a
 * hotplug step) wait for. Free-running they wake on it instead of polling the machine each
 * millisecond; nobody waits on it under controlled mode, where time is virtual.
 */
export function notify_controller(): void {
  raw_add(G_CPU_EVENTS, 1);
  futex_wake(G_CPU_EVENTS, Number.POSITIVE_INFINITY);
}

export function kick_cpu(cpu: number): void {
  const word = layout().cpu(cpu) + C_WAKE;
  raw_add(word, 1);
  futex_wake(word, 1);
}

/**
 * Wakes every other online CPU, so that its next pick re-checks the conditions its tasks sleep
 * on: for a wake-up (complete, mutex_unlock) that does not know the sleeper's CPU, where the
 * kernel's try_to_wake_up sends that CPU an IPI.
 */
export function kick_other_cpus(self: number): void {
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) if (cpu !== self && cpu_online(cpu)) kick_cpu(cpu);
}
