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

/** Milliseconds since boot, as every CPU sees it. */
export function machineMs(): number {
  return absoluteMs() - shm.f64[F64_BOOT_EPOCH_MS];
}
