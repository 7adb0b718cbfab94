/** Measuring a running workload: warm up, read counters, wait a window, read them again. */
import type { Warmup } from './window.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Monotonic counters of one CPU. */
export interface Counters {
  runs: number;
  requeues: number;
}

/** Rates over one measurement window, per CPU and summed. */
export interface CounterSample {
  seconds: number;
  /** Per CPU, per second. */
  perCpu: Counters[];
  total: Counters;
}

/** How often the settling warm-up compares rates, and by how much a rate must beat the best. */
const SETTLE_SLICE_MS = 250;
const SETTLE_CLIMB = 1.1;
const SETTLE_FLAT_SLICES = 2;

/**
 * Waits while the summed rate of `read`'s runs still climbs: done after SETTLE_FLAT_SLICES slices
 * in a row that do not beat the best slice so far by SETTLE_CLIMB, or after `maxMs`. A rate that
 * only wobbles (a shared host) settles in half a second.
 */
async function settle(cpus: number, maxMs: number, read: (cpu: number) => Counters): Promise<void> {
  const started = performance.now();
  const runs = () => Array.from({ length: cpus }, (_, cpu) => read(cpu).runs);
  let before = runs();
  let at = started;
  let best = 0;
  let flat = 0;
  while (performance.now() - started < maxMs) {
    await sleep(SETTLE_SLICE_MS);
    const after = runs();
    const now = performance.now();
    const rate = after.reduce((sum, r, cpu) => sum + ((r - before[cpu]) >>> 0), 0) / (now - at);
    before = after;
    at = now;
    if (rate > best * SETTLE_CLIMB) flat = 0;
    else if (++flat >= SETTLE_FLAT_SLICES) return;
    best = Math.max(best, rate);
  }
}

/** The fixed warm-up, then the settling one (see Warmup) on the runs that `read` counts. */
export async function warmUp(cpus: number, warmup: Warmup, read: (cpu: number) => Counters): Promise<void> {
  await sleep(warmup.warmupMs);
  if (warmup.settleMaxMs > 0) await settle(cpus, warmup.settleMaxMs, read);
}

/** For a caller that warmed up itself. */
export const NO_WARMUP: Warmup = { warmupMs: 0, settleMaxMs: 0 };

/**
 * Lets the workload warm up (JIT tiers, caches; see Warmup), then takes the counters' difference
 * over `durationMs` of wall time. The counters are read from shared memory without stopping
 * anyone.
 */
export async function sampleCounters(
  cpus: number,
  warmup: Warmup,
  durationMs: number,
  read: (cpu: number) => Counters,
): Promise<CounterSample> {
  await warmUp(cpus, warmup, read);
  const readAll = () => Array.from({ length: cpus }, (_, cpu) => read(cpu));
  const startedAt = performance.now();
  const before = readAll();
  await sleep(durationMs);
  const after = readAll();
  const seconds = (performance.now() - startedAt) / 1000;
  const perCpu = after.map((a, cpu) => ({
    runs: ((a.runs - before[cpu].runs) >>> 0) / seconds,
    requeues: ((a.requeues - before[cpu].requeues) >>> 0) / seconds,
  }));
  const total = perCpu.reduce(
    (sum, c) => ({ runs: sum.runs + c.runs, requeues: sum.requeues + c.requeues }),
    {
      runs: 0,
      requeues: 0,
    },
  );
  return { seconds, perCpu, total };
}
