/**
 * The one door to shared memory: every access the kernel algorithms make to a shared word goes
 * through these functions (the kernel's bitops and atomic_t). Each access is also an interrupt
 * point, and a place where delay injection or a controlled scheduler can hook in
 * (`setAccessHook`) without touching the algorithms.
 *
 * All value-returning operations are sequentially consistent (Atomics), which is at least as
 * strong as the kernel's fully ordered test_and_set_bit & co.
 */
import { shm } from './memory.ts';

type Hook = () => void;

/** Called before every shared access: takes pending interrupts where they are enabled. */
let interruptPoint: Hook = () => {};
/** Extra hook for delay injection; null when off (the common case). */
let accessHook: Hook | null = null;
/** Controlled mode's decision point (runtime/control.ts); null in free-running mode. */
let controlPoint: Hook | null = null;
/** Controlled mode's decision point for spin loops: a yield. */
let controlYield: Hook | null = null;

export function setInterruptPoint(hook: Hook): void {
  interruptPoint = hook;
}

export function setAccessHook(hook: Hook | null): void {
  accessHook = hook;
}

/** Controlled mode: `point` runs before every shared access, `spin` in every spin loop. */
export function setControlHooks(point: Hook | null, spin: Hook | null): void {
  controlPoint = point;
  controlYield = spin;
}

function point(): void {
  if (controlPoint !== null) controlPoint();
  if (accessHook !== null) accessHook();
  interruptPoint();
}

/** A decision point without an access (the scheduler's loop); nothing in free-running mode. */
export function schedule_point(): void {
  if (controlPoint !== null) controlPoint();
}

/** An explicit interrupt point (busy loops that touch no shared word). */
export function interrupt_point(): void {
  if (controlPoint !== null) controlPoint();
  interruptPoint();
}

export function test_and_set_bit(nr: number, addr: number): boolean {
  point();
  const mask = 1 << nr;
  return (Atomics.or(shm.mem, addr, mask) & mask) !== 0;
}

export function test_and_clear_bit(nr: number, addr: number): boolean {
  point();
  const mask = 1 << nr;
  return (Atomics.and(shm.mem, addr, ~mask) & mask) !== 0;
}

export function set_bit(nr: number, addr: number): void {
  point();
  Atomics.or(shm.mem, addr, 1 << nr);
}

export function clear_bit(nr: number, addr: number): void {
  point();
  Atomics.and(shm.mem, addr, ~(1 << nr));
}

export function test_bit(nr: number, addr: number): boolean {
  point();
  return (Atomics.load(shm.mem, addr) & (1 << nr)) !== 0;
}

export function atomic_read(addr: number): number {
  point();
  return Atomics.load(shm.mem, addr);
}

export function atomic_set(addr: number, value: number): void {
  point();
  Atomics.store(shm.mem, addr, value);
}

export function atomic_inc(addr: number): void {
  point();
  Atomics.add(shm.mem, addr, 1);
}

export function atomic_dec(addr: number): void {
  point();
  Atomics.sub(shm.mem, addr, 1);
}

/** Returns the new value, like the kernel's atomic_dec_return. */
export function atomic_dec_return(addr: number): number {
  point();
  return Atomics.sub(shm.mem, addr, 1) - 1;
}

export function atomic_cmpxchg(addr: number, expected: number, replacement: number): number {
  point();
  return Atomics.compareExchange(shm.mem, addr, expected, replacement);
}

/** READ_ONCE / WRITE_ONCE for plain shared words (queue heads, tails, next links). */
export function READ_ONCE(addr: number): number {
  point();
  return Atomics.load(shm.mem, addr);
}

export function WRITE_ONCE(addr: number, value: number): void {
  point();
  Atomics.store(shm.mem, addr, value);
}

let relaxSpins = 0;
const SPINS_BEFORE_YIELD = 64;
const yieldWord = new Int32Array(new SharedArrayBuffer(4));

/**
 * The body of a spin loop. Also an interrupt point. After a few dozen spins it gives the host
 * core away for a few microseconds: with more emulated CPUs than cores, the CPU we wait for
 * may not be running at all, so nothing here may spin unboundedly.
 */
export function cpu_relax(): void {
  if (controlYield !== null) {
    // Controlled: the other CPUs run first; nothing is gained by sleeping here.
    controlYield();
    interruptPoint();
    return;
  }
  point();
  if (++relaxSpins >= SPINS_BEFORE_YIELD) {
    relaxSpins = 0;
    Atomics.wait(yieldWord, 0, 0, 0.02);
  }
}
