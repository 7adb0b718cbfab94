/**
 * The one door to shared memory. Kernel-side code (kernel/, cpu/) reaches the machine's words
 * only through these functions; a lint rule (biome.json) rejects `Atomics`, `SharedArrayBuffer`
 * and the raw buffer (shm/memory.ts) anywhere else on that side.
 *
 * Three kinds of access:
 * - The kernel's bitops and atomic_t (`test_and_set_bit`, `atomic_inc`, `READ_ONCE`, ...): each
 *   is an interrupt point, a place for delay injection (`setAccessHook`) and, in controlled mode,
 *   a scheduling decision. These are the accesses the algorithms are made of.
 * - Quiet accesses (`raw_*`, `plain_*`): no interrupt point, no delay, no decision. They are for
 *   words whose interleaving is no part of the algorithm under test: the owner's mirrors of its
 *   interrupt flag and preempt count, counters, wait publication for observers, boot handshakes.
 *   Making them interrupt points would change where interrupts and decisions fall, so they stay
 *   quiet on purpose. `plain_*` are unordered (owner-written words read only by observers).
 * - Waiting: `cpu_relax`, `cpu_pause`, `cpu_sleep`, `idle_poll`. This is the one place that
 *   decides between sleeping (free-running) and yielding to the controlled scheduler.
 *
 * All value-returning operations are sequentially consistent (Atomics), which is at least as
 * strong as the kernel's fully ordered test_and_set_bit & co.
 */
import { machineMs } from './clock.ts';
import type { Layout, LayoutParams } from './layout.ts';
import { attachBuffer, shm } from './memory.ts';

type Hook = () => void;

/**
 * Controlled mode's scheduler (control/cpu.ts installs it on a CPU); null when free-running.
 * `point` is a decision before a shared access, `yield` a spin-loop iteration (others first),
 * `block` an idle or sleeping CPU that runs again on a kick of its wake word past `wakeSeq`, an
 * interrupt (unless `parked`) or virtual time `deadlineMs`.
 */
export interface CpuScheduler {
  point(): void;
  yield(): void;
  block(wakeSeq: number, deadlineMs: number, parked: boolean): void;
}

/** Called before every shared access: takes pending interrupts where they are enabled. */
let interruptPoint: Hook = () => {};
/** Extra hook for delay injection; null when off (the common case). */
let accessHook: Hook | null = null;
let scheduler: CpuScheduler | null = null;

/** A point with delay injection or controlled mode on: decision, delay, then interrupts. */
function hookedPoint(): void {
  if (scheduler !== null) scheduler.point();
  if (accessHook !== null) accessHook();
  interruptPoint();
}

/**
 * What every kernel access runs first. Installing or removing a hook swaps this reference, so
 * with both off an access pays for the interrupt point alone (no per-call test of the hooks).
 */
let point: Hook = interruptPoint;

function rewirePoint(): void {
  point = scheduler === null && accessHook === null ? interruptPoint : hookedPoint;
}

export function setInterruptPoint(hook: Hook): void {
  interruptPoint = hook;
  rewirePoint();
}

export function setAccessHook(hook: Hook | null): void {
  accessHook = hook;
  rewirePoint();
}

/** Controlled mode installs its scheduler here; null detaches this CPU to free-running. */
export function setCpuScheduler(s: CpuScheduler | null): void {
  scheduler = s;
  rewirePoint();
}

/**
 * Controlled mode counts every message a CPU posts from attachment on, boot messages included,
 * so that the controller knows how many to read before it acts.
 */
let messageHook: Hook | null = null;

export function setMessageHook(hook: Hook | null): void {
  messageHook = hook;
}

/** This CPU posted a message to the controller. */
export function message_posted(): void {
  if (messageHook !== null) messageHook();
}

// ---------------------------------------------------------------------------------------------
// Geometry and attachment (no access to words).

/** This thread attaches to the machine's buffer once, at CPU bring-up. */
export function attach_machine_memory(sab: SharedArrayBuffer, params: LayoutParams): void {
  attachBuffer(sab, params);
}

/** Where things live: word addresses of CPU blocks, tasklets, the module region. */
export function layout(): Layout {
  return shm.layout;
}

/** False on a thread with no machine attached (a module file imported outside a machine). */
export function memory_attached(): boolean {
  return shm.sab !== null;
}

/**
 * `length` words of the module region starting at `offset`, as an Int32Array for module code
 * (shared_words). The one sanctioned raw view: it is the module's own data, not kernel state.
 */
export function module_region(offset: number, length: number): Int32Array {
  return new Int32Array(shm.sab!, (shm.layout.moduleBase + offset) * 4, length);
}

// ---------------------------------------------------------------------------------------------
// The kernel's bitops and atomic_t: interrupt points.

/** Whether this CPU runs under controlled mode's scheduler (decisions at every access). */
export function under_control(): boolean {
  return scheduler !== null;
}

/** A decision point without an access (the scheduler's loop); nothing in free-running mode. */
export function schedule_point(): void {
  if (scheduler !== null) scheduler.point();
}

/** An explicit interrupt point (busy loops that touch no shared word). */
export function interrupt_point(): void {
  if (scheduler !== null) scheduler.point();
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

// ---------------------------------------------------------------------------------------------
// CPU-local accesses: the same interrupt point, delay and decision as the accesses above, then a
// plain access. They serve words that one CPU alone touches, with its interrupts off, as the
// kernel touches them with plain C: its tasklet queues (head, tail, and the next links of the
// tasklets queued on it) and its softirq-pending word. One thread writes and reads them, so a
// plain access sees its own writes. Another thread reads them only after a hand-off through an
// atomic: a tasklet that leaves one CPU's queue and joins another's passes through its SCHED
// bit (the new owner's test_and_set_bit reads the old owner's clear, made after its last use of
// the next link); a heir adopts a dead CPU's queues after reading the takeover bit that the dying
// CPU set after its last plain write. In the JavaScript memory model such a read synchronizes
// with that write, so the plain accesses before the write happen before those after the read.
// Observers (machine/view.ts) sample these words; a torn snapshot there was always possible.

export function local_read(addr: number): number {
  point();
  return shm.mem[addr];
}

export function local_write(addr: number, value: number): void {
  point();
  shm.mem[addr] = value;
}

/** A plain read-modify-write: nothing else writes the word, and no interrupt falls inside it. */
export function local_or(addr: number, mask: number): void {
  point();
  shm.mem[addr] |= mask;
}

// ---------------------------------------------------------------------------------------------
// Quiet accesses: sequentially consistent, but no interrupt point, delay or decision.

export function raw_load(addr: number): number {
  return Atomics.load(shm.mem, addr);
}

export function raw_store(addr: number, value: number): void {
  Atomics.store(shm.mem, addr, value);
}

/** Returns the old value. */
export function raw_add(addr: number, delta: number): number {
  return Atomics.add(shm.mem, addr, delta);
}

/** Returns the old value. */
export function raw_or(addr: number, mask: number): number {
  return Atomics.or(shm.mem, addr, mask);
}

/** Returns the old value. */
export function raw_and(addr: number, mask: number): number {
  return Atomics.and(shm.mem, addr, mask);
}

/** Returns the old value. */
export function raw_xchg(addr: number, value: number): number {
  return Atomics.exchange(shm.mem, addr, value);
}

/** Returns the old value. */
export function raw_cmpxchg(addr: number, expected: number, replacement: number): number {
  return Atomics.compareExchange(shm.mem, addr, expected, replacement);
}

/** Unordered read of a word (the owner's own counters and mirrors, boot-time table fields). */
export function plain_read(addr: number): number {
  return shm.mem[addr];
}

/** Unordered write: for a word only this CPU writes and observers only sample. */
export function plain_write(addr: number, value: number): void {
  shm.mem[addr] = value;
}

export function plain_inc(addr: number): void {
  shm.mem[addr]++;
}

// ---------------------------------------------------------------------------------------------
// Waiting: the one place that chooses between sleeping and yielding.

/** Wakes up to `count` threads sleeping on the word (after the caller changed it). */
export function futex_wake(addr: number, count = 1): void {
  Atomics.notify(shm.mem, addr, count);
}

/** A boot-time wait while the word reads `expected`, for at most `timeoutMs` (never controlled). */
export function futex_wait(addr: number, expected: number, timeoutMs: number): void {
  Atomics.wait(shm.mem, addr, expected, timeoutMs);
}

let relaxSpins = 0;
const SPINS_BEFORE_YIELD = 64;
const pauseWord = new Int32Array(new SharedArrayBuffer(4));

/**
 * The body of a spin loop. Also an interrupt point. After a few dozen spins it gives the host
 * core away for a few microseconds: with more emulated CPUs than cores, the CPU we wait for
 * may not be running at all, so nothing here may spin unboundedly.
 */
export function cpu_relax(): void {
  if (scheduler !== null) {
    // Controlled: the other CPUs run first; nothing is gained by sleeping here.
    scheduler.yield();
    interruptPoint();
    return;
  }
  point();
  if (++relaxSpins >= SPINS_BEFORE_YIELD) {
    relaxSpins = 0;
    Atomics.wait(pauseWord, 0, 0, 0.02);
  }
}

/**
 * One pause of a polling loop that checks its condition itself. Free-running: gives the host
 * core away for `ms` (on the word at `addr` when given, so a notify of it ends the pause early;
 * pass the value the loop checked as `seen`, and a change just before the pause ends it too);
 * controlled: a yield, so the CPUs that can make progress run first.
 */
export function cpu_pause(ms: number, addr = -1, seen = addr < 0 ? 0 : Atomics.load(shm.mem, addr)): void {
  if (scheduler !== null) scheduler.yield();
  else if (addr < 0) Atomics.wait(pauseWord, 0, 0, ms);
  else Atomics.wait(shm.mem, addr, seen, ms);
}

/**
 * Sleeps until this CPU's wake word at `wakeAddr` moves past `seq`, or the machine clock reaches
 * `deadlineMs`. Free-running, one sleep lasts at most `maxMs` of real time (so a lost wake-up
 * costs at most that); controlled, the CPU blocks until a kick, an interrupt (unless `parked`:
 * an offline CPU) or its deadline in virtual time. The caller re-checks what it waits for.
 */
export function cpu_sleep(
  wakeAddr: number,
  seq: number,
  deadlineMs: number,
  maxMs = Infinity,
  parked = false,
): void {
  if (scheduler !== null) {
    scheduler.block(seq, deadlineMs, parked);
    return;
  }
  const timeout = Math.min(Math.max(0, deadlineMs - machineMs()), maxMs);
  Atomics.wait(shm.mem, wakeAddr, seq, timeout);
}

/**
 * A short busy poll before an idle sleep (a cheap wake-up): true if the word moved past `seq`
 * within `us` microseconds. Controlled mode never polls (time is virtual): false at once.
 */
export function idle_poll(addr: number, seq: number, us: number): boolean {
  if (scheduler !== null || us <= 0) return false;
  const until = performance.now() + us / 1000;
  while (performance.now() < until) {
    if (Atomics.load(shm.mem, addr) !== seq) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Module data (kernel/shared-data.ts): a driver's shared structs. A plain C access (`x = y`) is
// an interrupt point like the kernel's accesses, so controlled mode interleaves them too; the
// marked ones (READ_ONCE, atomic_t) reuse the functions above. Nothing else calls these.

export function data_read(addr: number): number {
  point();
  return shm.mem[addr];
}

export function data_write(addr: number, value: number): void {
  point();
  shm.mem[addr] = value;
}

/** Returns the new value, like the kernel's atomic_add_return. */
export function atomic_add_return(addr: number, delta: number): number {
  point();
  return (Atomics.add(shm.mem, addr, delta) + delta) | 0;
}

/** Returns the old value. */
export function atomic_xchg(addr: number, value: number): number {
  point();
  return Atomics.exchange(shm.mem, addr, value);
}

/**
 * KCSAN's watch window: free-running, `us` microseconds of interrupt points (interrupts come in
 * where they are enabled, other CPUs run on); controlled, `points` yields, so that the scheduler
 * can run the other CPUs (and this CPU's interrupts) inside the window.
 */
export function watch_delay(us: number, points: number): void {
  if (scheduler !== null) {
    // The scheduler may detach this CPU inside a yield (the run ends): then the window ends.
    for (let i = 0; i < points && scheduler !== null; i++) {
      scheduler.yield();
      interruptPoint();
    }
    return;
  }
  const until = performance.now() + us / 1000;
  do point();
  while (performance.now() < until);
}
