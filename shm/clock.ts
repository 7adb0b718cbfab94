/** One clock for every thread: milliseconds since the machine booted. */
import { F64_BOOT_EPOCH_MS, F64_SKIPPED_MS } from './layout.ts';
import { shm } from './memory.ts';

const origin = performance.timeOrigin;

/** Absolute wall-clock milliseconds (same across worker threads, sub-microsecond resolution). */
export function absoluteMs(): number {
  return origin + performance.now();
}

export function setBootEpoch(): void {
  shm.f64[F64_BOOT_EPOCH_MS] = absoluteMs();
}

/**
 * Free-running idle skipping (kernel/idle-skip.ts): the machine clock jumps forward to `ms` by
 * moving the boot epoch back. One CPU at a time does it; readers see the old or the new epoch
 * (an aligned 8-byte store is single-copy atomic on the hosts V8 runs on), never a time going back.
 */
export function skipMachineTimeTo(ms: number): void {
  const ahead = ms - machineMs();
  if (ahead <= 0) return;
  shm.f64[F64_BOOT_EPOCH_MS] -= ahead;
  shm.f64[F64_SKIPPED_MS] += ahead;
}

/** Machine time skipped so far (free-running idle skipping). */
export function skippedMs(): number {
  return shm.f64[F64_SKIPPED_MS];
}

/** Controlled mode's virtual clock (nanoseconds, advanced per decision), or null. */
let virtualNs: { f64: Float64Array; index: number } | null = null;

export function setVirtualClock(f64: Float64Array | null, index = 0): void {
  virtualNs = f64 === null ? null : { f64, index };
}

/**
 * Nanoseconds since boot. Controlled mode's virtual clock counts whole nanoseconds, so sums
 * and comparisons on it are exact: a delay takes the same number of decisions at any time.
 */
export function machineNs(): number {
  if (virtualNs !== null) return virtualNs.f64[virtualNs.index];
  return (absoluteMs() - shm.f64[F64_BOOT_EPOCH_MS]) * 1e6;
}

/** Milliseconds since boot, as every CPU sees it: virtual time in controlled mode. */
export function machineMs(): number {
  if (virtualNs !== null) return virtualNs.f64[virtualNs.index] / 1e6;
  return absoluteMs() - shm.f64[F64_BOOT_EPOCH_MS];
}

/**
 * Machine time in whole microseconds, for the controller's deadlines and comparisons. A
 * controlled clock is exact in nanoseconds, but its reading in milliseconds is not: a deadline
 * `now + 100` could then compare either way with a later reading by the rounding of the absolute
 * times involved, and a program run later on a used machine would decide otherwise than the same
 * program on a fresh one. Whole microseconds compare alike at any absolute time.
 */
export const wholeUs = (ms: number): number => Math.round(ms * 1000);

/** Wall-clock milliseconds since the epoch, as the machine sees it: boot time plus machine time. */
export function wallMs(): number {
  return shm.f64[F64_BOOT_EPOCH_MS] + machineMs();
}
