/** Busy-wait delays (udelay/mdelay): the CPU stays busy but keeps taking interrupts. */

import { machineNs } from '../shm/clock.ts';
import { interrupt_point } from '../shm/door.ts';

export function udelay(us: number): void {
  // The machine clock, so that a delay takes virtual time in controlled mode.
  const end = machineNs() + Math.round(us * 1000);
  while (machineNs() < end) interrupt_point();
}

export function mdelay(ms: number): void {
  udelay(ms * 1000);
}
