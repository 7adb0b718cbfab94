/**
 * Memory barriers (asm-generic/barrier.h). JavaScript has no standalone fence, but a sequentially
 * consistent read-modify-write is one on every host V8 runs on (a locked instruction on x86, a
 * full barrier on arm64), so smp_mb and its read and write halves are an Atomics.add of 0 on a
 * word of this CPU's own. Marked accesses (READ_ONCE, WRITE_ONCE, the atomic_t family and bitops)
 * are Atomics, sequentially consistent already: acquire and release are those, and the
 * before/after-atomic barriers have nothing left to order. Plain field accesses are what a
 * barrier orders.
 */
import { raw_add } from '../shm/door.ts';
import { C_HEARTBEAT } from '../shm/layout.ts';
import { this_cpu } from './percpu.ts';
import { READ_ONCE, WRITE_ONCE } from './shared-data.ts';

export function smp_mb(): void {
  raw_add(this_cpu.base + C_HEARTBEAT, 0);
}

export const smp_rmb = smp_mb;
export const smp_wmb = smp_mb;
export const mb = smp_mb;
export const rmb = smp_mb;
export const wmb = smp_mb;

/** A compiler barrier: JavaScript has no compiler-only one, so the full barrier (stronger). */
export const barrier = smp_mb;

export function smp_mb__before_atomic(): void {}
export const smp_mb__after_atomic = smp_mb__before_atomic;

/** smp_load_acquire(&p->f) and smp_store_release(&p->f, v). */
export const smp_load_acquire = READ_ONCE;
export const smp_store_release = WRITE_ONCE;
