/** Waking a CPU that sleeps on its wake word (idle loop or a sleeping wait), and the controller. */
import { futex_wake, layout, raw_add } from '../shm/door.ts';
import { C_WAKE, G_CPU_EVENTS } from '../shm/layout.ts';

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
