/**
 * Runs on every CPU at each shared-memory access (shm/door.ts setAccessHook): seeded busy
 * delays that widen race windows, and the fuzz interrupt armed to arrive at the n-th access of
 * the next op. Costs one load per access while no program runs.
 */

import { raise_irq } from '../../kernel/irq.ts';
import { setAccessHook } from '../../shm/door.ts';
import { FUZZ_IRQ, W_ACTIVE, W_DELAY_MAX_US, W_DELAY_PERMILLE, W_DELAY_SEED } from './layout.ts';

/** How a run injects delays: the same plan replays the same choices on each CPU's accesses. */
export interface DelayPlan {
  seed: number;
  /** Chance of a delay at each shared access, in 1/1000. */
  permille: number;
  /** Longest delay, in microseconds. */
  maxUs: number;
}

let words: Int32Array = new Int32Array(0);
let cpu = -1;
let armedAt = 0;
let rng = 1;

/** mulberry32 step on a module variable: no allocation on the hot path. */
function next(): number {
  rng = (rng + 0x6d2b79f5) | 0;
  let t = rng;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function onAccess(): void {
  if (armedAt > 0 && --armedAt === 0) raise_irq(cpu, FUZZ_IRQ);
  if (Atomics.load(words, W_ACTIVE) === 0) return;
  if (next() * 1000 >= Atomics.load(words, W_DELAY_PERMILLE)) return;
  const until = performance.now() + (next() * Atomics.load(words, W_DELAY_MAX_US)) / 1000;
  while (performance.now() < until);
}

export function installInjection(fuzzWords: Int32Array, thisCpu: number): void {
  words = fuzzWords;
  cpu = thisCpu;
  setAccessHook(onAccess);
}

/** At the start of this CPU's thread: the plan's choices start over. */
export function restartInjection(): void {
  armedAt = 0;
  rng = (Atomics.load(words, W_DELAY_SEED) ^ Math.imul(cpu + 1, 0x9e3779b1)) | 0;
}

/** The fuzz interrupt reaches this CPU at the `at`-th shared access from now. */
export function armIrq(at: number): void {
  fireArmedIrq();
  armedAt = at;
}

/** An armed interrupt the op did not reach is raised now. */
export function fireArmedIrq(): void {
  if (armedAt === 0) return;
  armedAt = 0;
  raise_irq(cpu, FUZZ_IRQ);
}
