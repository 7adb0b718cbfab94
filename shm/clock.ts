/** One clock for every thread: milliseconds since the machine booted. */
import { F64_BOOT_EPOCH_MS } from './layout.ts';
import { shm } from './memory.ts';

const origin = performance.timeOrigin;

/** Absolute wall-clock milliseconds (same across worker threads, sub-microsecond resolution). */
export function absoluteMs(): number {
  return origin + performance.now();
}

export function setBootEpoch(): void {
  shm.f64[F64_BOOT_EPOCH_MS] = absoluteMs();
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

/** Wall-clock milliseconds since the epoch, as the machine sees it: boot time plus machine time. */
export function wallMs(): number {
  return shm.f64[F64_BOOT_EPOCH_MS] + machineMs();
}
