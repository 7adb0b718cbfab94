/** Busy-wait delays (udelay/mdelay): the CPU stays busy but keeps taking interrupts. */

import { machineNs } from '../shm/clock.ts';
import { interrupt_point } from '../shm/door.ts';
import { clock_wait, skipping_idle_time } from './idle-skip.ts';

export function udelay(us: number): void {
  // The machine clock, so that a delay takes virtual time in controlled mode.
  const end = machineNs() + Math.round(us * 1000);
  while (machineNs() < end) {
    interrupt_point();
    // Skipping idle time: the wait sleeps instead, so that it can be skipped too.
    if (skipping_idle_time()) clock_wait(end / 1e6);
  }
}

export function mdelay(ms: number): void {
  udelay(ms * 1000);
}
