/**
 * What the timer and BH work halves of the stress workload share on each CPU: their words, the
 * stress module's words (phase, seed, oracles switch; handed over at cpu_init), the PRNG, the
 * report path and coverage, and the exclusive-hold protocol the tasklet ops use too (an
 * exclusive op sets Excl and waits for racing ops inside their check to leave).
 */
import {
  cpu_online,
  in_hardirq,
  in_serving_softirq,
  nr_cpu_ids,
  report,
  shared_words,
  smp_processor_id,
  type TaskBody,
} from 'tasklet-rt';
import { machineMs } from '../../shm/clock.ts';
import { othersOffline } from '../oracles/bh-checks.ts';
import { offlineCount } from '../oracles/cpu-context.ts';
import type { Violation } from '../oracles/guarantees.ts';
import { Prng } from '../prng.ts';
import { BH_WORDS, R } from './bh-shadow.ts';
import { type CoverageKind, cov_begin, cov_end, kindIndex, Slot } from './coverage.ts';
import { Phase, S_ORACLES, S_PHASE, S_SEED, S_VIOLATIONS } from './shadow.ts';

export { check_placement } from '../oracles/bh-checks.ts';

export const bh = shared_words(BH_WORDS, 'stress-bh');

let sh: Int32Array | null = null;
let cov: Int32Array | null = null;
let seeded = false;
export let rng = new Prng(7);

/** cpu_init of the stress module: its shadow and coverage words. */
export function attach_stress_words(stressShadow: Int32Array, coverage: Int32Array): void {
  sh = stressShadow;
  cov = coverage;
}

/** The per-CPU PRNG from the run's seed, once the stress setup has stored it. */
export function seed_rng(cpu: number): void {
  if (seeded || sh === null) return;
  seeded = true;
  rng = new Prng((Atomics.load(sh, S_SEED) ^ Math.imul(cpu + 1, 0x7f4a7c15) ^ 0xb4) >>> 0);
}

export const running = (): boolean => sh !== null && Atomics.load(sh, S_PHASE) === Phase.Run;
const checking = (): boolean => sh !== null && Atomics.load(sh, S_ORACLES) !== 0;

export function fail(v: Violation | null): void {
  if (v === null || !checking() || sh === null) return;
  Atomics.add(sh, S_VIOLATIONS, 1);
  report('violation', { ...v, name: '', machineMs: machineMs(), events: [] });
}

export const slotNow = (): Slot =>
  in_hardirq() ? Slot.Hardirq : in_serving_softirq() ? Slot.Softirq : Slot.Process;

/** Coverage of an op of `kind` in the context it runs in. */
export function covered<T>(kind: CoverageKind, body: () => T): T {
  if (cov === null) return body();
  const cpu = smp_processor_id();
  const slot = slotNow();
  cov_begin(cov, nr_cpu_ids(), cpu, slot, kindIndex(kind));
  try {
    return body();
  } finally {
    cov_end(cov, cpu, slot);
  }
}

/** `base` is a record's first word (tr(i, 0) or wr(i, 0)). */
export function* tryExclusive(base: number, cpu: number): TaskBody<boolean> {
  if (Atomics.compareExchange(bh, base + R.Ctrl, 0, cpu + 1) !== 0) return false;
  Atomics.store(bh, base + R.Excl, 1);
  // Yielding: a racing op inside may wait (flush_work, a _sync) for a softirq pass of this CPU.
  while (Atomics.load(bh, base + R.InFlight) !== 0) yield;
  return true;
}

export function releaseExclusive(base: number): void {
  Atomics.store(bh, base + R.Excl, 0);
  Atomics.store(bh, base + R.Ctrl, 0);
}

/** Runs `body` as a racing op on the record unless an exclusive op holds it. */
export function racing(base: number, body: () => void): void {
  Atomics.add(bh, base + R.InFlight, 1);
  if (Atomics.load(bh, base + R.Excl) === 0) body();
  Atomics.sub(bh, base + R.InFlight, 1);
}

/** Takes one of the record's self re-arms (or requeues), if any is left. */
export function take_budget(base: number): boolean {
  for (;;) {
    const left = Atomics.load(bh, base + R.Budget);
    if (left <= 0) return false;
    if (Atomics.compareExchange(bh, base + R.Budget, left, left - 1) === left) return true;
  }
}

/** Raises word `at` to at least `value`. */
export function raise_to(at: number, value: number): void {
  for (let cur = Atomics.load(bh, at); cur < value; cur = Atomics.load(bh, at)) {
    if (Atomics.compareExchange(bh, at, cur, value) === cur) return;
  }
}

/**
 * At most one slow callback (a tick and a half of busy-waiting in softirq) per this much machine
 * time per CPU: the exclusive ops that need one would otherwise starve the tasklet workload.
 */
const SLOW_GAP_MS = 100;
let lastSlowMs = Number.NEGATIVE_INFINITY;

/** Whether an exclusive op may make a callback slow now (and then it counts as done). */
export function slow_allowed(): boolean {
  const now = machineMs();
  if (now - lastSlowMs < SLOW_GAP_MS) return false;
  lastSlowMs = now;
  return true;
}

/** Yields until `done` or `ms` of machine time passed; whether it is done. */
export function* wait_until(done: () => boolean, ms: number): TaskBody<boolean> {
  const deadline = machineMs() + ms;
  while (!done()) {
    if (machineMs() > deadline || !running()) return done();
    yield;
  }
  return true;
}

/**
 * Before arming or queueing the record at `base` for `cpu`: check_placement will expect the run
 * there (if `cpu` is online now), judged against the unplugs from now on.
 */
export function expect_placement(base: number, cpu: number): void {
  Atomics.store(bh, base + R.ExpectOffline, offlineCount(cpu));
  Atomics.store(bh, base + R.ExpectOthersOffline, othersOffline(cpu));
  if (cpu_online(cpu)) Atomics.store(bh, base + R.ExpectCpu, cpu + 1);
}
