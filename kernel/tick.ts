/**
 * jiffies and the per-CPU timer tick. jiffies follows the shared clock, so whichever CPU takes
 * a tick brings it up to date (no single tick_do_timer_cpu that hotplug could remove). It starts
 * at INITIAL_JIFFIES as on a 64-bit kernel, and is kept as an unsigned 32-bit count.
 */
import { machineMs } from '../shm/clock.ts';
import { plain_read, raw_cmpxchg, raw_load } from '../shm/door.ts';
import { G_HZ, G_JIFFIES } from '../shm/layout.ts';
import { scheduler_tick } from './sched.ts';

let tickMs = 4;
let nextTickMs = 0;

export function initial_jiffies(hz: number): number {
  return (-300 * hz) >>> 0;
}

export function HZ(): number {
  return plain_read(G_HZ);
}

/** The kernel's `jiffies`, as an unsigned 32-bit value. */
export function jiffies(): number {
  return raw_load(G_JIFFIES) >>> 0;
}

export function time_after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

export function time_before(a: number, b: number): boolean {
  return time_after(b, a);
}

export function init_tick(): void {
  tickMs = 1000 / HZ();
  nextTickMs = (Math.floor(machineMs() / tickMs) + 1) * tickMs;
}

export function timerDue(): boolean {
  return machineMs() >= nextTickMs;
}

/** When the local timer fires next, on the machine clock. */
export function next_tick_ms(): number {
  return nextTickMs;
}

export function msUntilNextTick(): number {
  return Math.max(0, nextTickMs - machineMs());
}

function jiffiesNow(now: number): number {
  return (initial_jiffies(HZ()) + Math.floor(now / tickMs)) | 0;
}

/** The local timer interrupt handler: update jiffies, account the running task's slice. */
export function tick_handler(): void {
  const now = machineMs();
  const target = jiffiesNow(now);
  for (;;) {
    const seen = raw_load(G_JIFFIES);
    if (((target - seen) | 0) <= 0) break;
    if (raw_cmpxchg(G_JIFFIES, seen, target) === seen) break;
  }
  nextTickMs = (Math.floor(now / tickMs) + 1) * tickMs;
  scheduler_tick();
}

/** jiffies at boot, written by the controller before the CPUs start. */
export function boot_jiffies(hz: number): number {
  return initial_jiffies(hz) | 0;
}
