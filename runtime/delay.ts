/** Busy-wait delays (udelay/mdelay): the CPU stays busy but keeps taking interrupts. */
import { interrupt_point } from './atomic.ts';

export function udelay(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) interrupt_point();
}

export function mdelay(ms: number): void {
  udelay(ms * 1000);
}
