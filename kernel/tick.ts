/**
 * jiffies and the per-CPU timer tick. jiffies follows the shared clock, so whichever CPU takes
 * a tick brings it up to date (no single tick_do_timer_cpu that hotplug could remove). It starts
 * at INITIAL_JIFFIES and is 64 bits wide, as on a 64-bit kernel: it passes 2^32 five minutes
 * after boot and goes on. The shared word counts ticks since boot; jiffies adds INITIAL_JIFFIES.
 */
import { machineMs } from '../shm/clock.ts';
import { plain_read, raw_cmpxchg, raw_load } from '../shm/door.ts';
import { G_HZ, G_JIFFIES } from '../shm/layout.ts';
import { scheduler_tick } from './sched.ts';

let tickMs = 4;
/** run_local_timers (kernel/timer.ts), installed by init_timers; late-bound to keep tick.ts a leaf. */
let timerTick: () => void = () => {};

export function set_timer_tick(hook: () => void): void {
  timerTick = hook;
}
let nextTickMs = 0;

export function initial_jiffies(hz: number): number {
  return (-300 * hz) >>> 0;
}

export function HZ(): number {
  return plain_read(G_HZ);
}

/** The kernel's `jiffies` (an unsigned long: exact in a JS number for 2^53 ticks). */
export function jiffies(): number {
  return initial_jiffies(HZ()) + (raw_load(G_JIFFIES) >>> 0);
}

export function time_after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

export function time_before(a: number, b: number): boolean {
  return time_after(b, a);
}

/** time_in_range(a, b, c): b <= a <= c, wrap-safe. */
export function time_in_range(a: number, b: number, c: number): boolean {
  return time_after_eq(a, b) && time_before_eq(a, c);
}

export function time_after_eq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export function time_before_eq(a: number, b: number): boolean {
  return time_after_eq(b, a);
}

/** Rounds up, as the kernel does: a delay of m milliseconds is never shorter than m. */
export function msecs_to_jiffies(m: number): number {
  return Math.ceil((m * HZ()) / 1000);
}

export function jiffies_to_msecs(j: number): number {
  return Math.round((j * 1000) / HZ());
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

/** Ticks since boot at machine time `now`. */
function ticksAt(now: number): number {
  return Math.floor(now / tickMs) | 0;
}

/** The local timer interrupt handler: update jiffies, account the running task's slice. */
export function tick_handler(): void {
  const now = machineMs();
  const target = ticksAt(now);
  for (;;) {
    const seen = raw_load(G_JIFFIES);
    if (((target - seen) | 0) <= 0) break;
    if (raw_cmpxchg(G_JIFFIES, seen, target) === seen) break;
  }
  nextTickMs = (Math.floor(now / tickMs) + 1) * tickMs;
  timerTick();
  scheduler_tick();
}
