/**
 * Idle-time skipping, free-running (Machine.skipIdleTime): when every CPU only waits for the
 * clock (asleep in its idle loop, or in a udelay), nothing happens on the machine until the
 * earliest of their deadlines, so the last CPU to start waiting moves the machine clock there
 * and wakes the others instead of letting the host sleep through it. Controlled mode's virtual
 * clock jumps the same way, and so does QEMU's icount with sleep=off. A CPU that runs a task,
 * spins on a lock or has interrupts pending is not waiting for the clock, and while one is the
 * clock keeps the host's pace.
 *
 * G_IDLE_SLEEPERS counts the CPUs waiting (low 8 bits) in the current epoch (the bits above).
 * A skip opens a new epoch with nobody waiting, so the next skip needs every CPU to have woken,
 * taken its tick and gone back to waiting: the clock never runs ahead of a CPU that is still
 * catching up, and a CPU woken by an interrupt (a request from the controller) holds the clock
 * until it waits again. Every CPU holds the clock but the parked ones (offline, asleep until the
 * controller brings them up): a dying CPU is offline already and still works, and so is a rising
 * one before it is online again.
 */
import { machineMs, skipMachineTimeTo } from '../shm/clock.ts';
import { cpu_sleep, raw_add, raw_cmpxchg, raw_load, under_control } from '../shm/door.ts';
import { C_WAKE, G_IDLE_SKIPS, G_IDLE_SLEEPERS, G_PARKED_CPUS, G_SKIP_IDLE } from '../shm/layout.ts';
import { cpu_online, nr_cpu_ids } from './cpumask.ts';
import { poll_local_timer } from './irq.ts';
import { this_cpu } from './percpu.ts';
import { next_tick_ms } from './tick.ts';
import { kick_cpu } from './wake.ts';

const WAITING_MASK = 0xff;
const NEXT_EPOCH = WAITING_MASK + 1;
/** Past the deadline by a nanosecond: the clock's rounding must not leave it a hair ahead. */
const PAST_THE_DEADLINE_MS = 1e-6;
/** Not counted: skipping is off, or this CPU skipped the time itself. */
const NOT_COUNTED = -1;

export function skipping_idle_time(): boolean {
  return raw_load(G_SKIP_IDLE) !== 0 && !under_control();
}

/**
 * This CPU is about to sleep until `deadlineMs`, only the clock or a kick ending the sleep.
 * Returns the epoch it is counted in, or NOT_COUNTED (after a skip by this CPU the deadline is
 * now: its sleep returns at once).
 */
function clock_wait_begin(deadlineMs: number): number {
  if (!skipping_idle_time()) return NOT_COUNTED;
  for (;;) {
    const seen = raw_load(G_IDLE_SLEEPERS);
    const epoch = seen & ~WAITING_MASK;
    if ((seen & WAITING_MASK) + 1 < nr_cpu_ids() - raw_load(G_PARKED_CPUS)) {
      if (raw_cmpxchg(G_IDLE_SLEEPERS, seen, seen + 1) === seen) return epoch;
      continue;
    }
    if (raw_cmpxchg(G_IDLE_SLEEPERS, seen, (epoch + NEXT_EPOCH) | 0) !== seen) continue;
    // Ticks fall on one grid, so nobody's next tick is earlier than this CPU's deadline; a
    // udelay elsewhere may end before it, and then ends late, as a udelay may (never early).
    skipMachineTimeTo(deadlineMs + PAST_THE_DEADLINE_MS);
    raw_add(G_IDLE_SKIPS, 1);
    for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) if (cpu !== this_cpu.id && cpu_online(cpu)) kick_cpu(cpu);
    return NOT_COUNTED;
  }
}

/** Awake again: no longer counted, unless a skip has opened a new epoch meanwhile. */
function clock_wait_end(epoch: number): void {
  if (epoch === NOT_COUNTED) return;
  for (;;) {
    const seen = raw_load(G_IDLE_SLEEPERS);
    if ((seen & ~WAITING_MASK) !== epoch) return;
    if (raw_cmpxchg(G_IDLE_SLEEPERS, seen, seen - 1) === seen) return;
  }
}

/** The idle loop's sleep until the next tick or a kick of the wake word past `seq`. */
export function idle_sleep(wake: number, seq: number): void {
  const epoch = clock_wait_begin(next_tick_ms());
  cpu_sleep(wake, seq, next_tick_ms());
  clock_wait_end(epoch);
}

/**
 * A busy-wait's pass while skipping is on (udelay): asleep until `untilMs`, the next tick or a
 * kick (an interrupt), which the caller's next interrupt point takes. With the tick already
 * due it only raises it: a CPU with interrupts off spins as without skipping.
 */
export function clock_wait(untilMs: number): void {
  const deadline = Math.min(untilMs, next_tick_ms());
  if (deadline <= machineMs()) {
    poll_local_timer();
    return;
  }
  const wake = this_cpu.base + C_WAKE;
  const seq = raw_load(wake);
  const epoch = clock_wait_begin(deadline);
  cpu_sleep(wake, seq, deadline);
  clock_wait_end(epoch);
}

/**
 * This CPU parks offline and stops holding the clock. The controller's cpuUp counts it out of
 * the park again before it asks the CPU up, so that it holds the clock from that moment: if the
 * CPU did it as it woke, the others could skip ahead for as long as its wake-up took.
 */
export function park_cpu(): void {
  raw_add(G_PARKED_CPUS, 1);
}
