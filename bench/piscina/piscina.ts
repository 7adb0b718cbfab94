/**
 * The piscina baseline: a no-op task, one `run()` per dispatch (no batching), with enough
 * tasks in flight to keep every worker busy. Counts completions over a window.
 */
import { Piscina } from 'piscina';
import type { ThroughputRow } from '../results.ts';
import { sleep, warmUp } from '../sampling.ts';
import { repeat } from '../stats.ts';
import type { Warmup, Window } from '../window.ts';

export interface PiscinaConfig {
  concurrentTasksPerWorker: number;
  atomics: 'sync' | 'async' | 'disabled';
}

/** The settings tried to find piscina's best configuration for this workload. */
export const PISCINA_CONFIGS: PiscinaConfig[] = [1, 16].flatMap((concurrentTasksPerWorker) =>
  (['sync', 'async', 'disabled'] as const).map((atomics) => ({ concurrentTasksPerWorker, atomics })),
);

const filename = new URL('./noop.mjs', import.meta.url).href;

/** Completions per second over one window. */
export async function piscinaOnce(
  threads: number,
  config: PiscinaConfig,
  warmup: Warmup,
  durationMs: number,
): Promise<number> {
  const pool = new Piscina({
    filename,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    ...config,
  });
  const inFlight = threads * config.concurrentTasksPerWorker * 4;
  let completed = 0;
  let stopping = false;
  const feed = async (): Promise<void> => {
    while (!stopping) {
      await pool.run(null);
      completed++;
    }
  };
  const feeders = Array.from({ length: inFlight }, feed);
  try {
    await warmUp(1, warmup, () => ({ runs: completed, requeues: 0 }));
    const before = completed;
    const startedAt = performance.now();
    await sleep(durationMs);
    return (completed - before) / ((performance.now() - startedAt) / 1000);
  } finally {
    stopping = true;
    await Promise.all(feeders);
    await pool.destroy();
  }
}

/** Tries every configuration briefly at `threads`, returns the fastest. */
export async function bestPiscinaConfig(threads: number, probeMs: number): Promise<PiscinaConfig> {
  let best = PISCINA_CONFIGS[0];
  let bestRate = 0;
  for (const config of PISCINA_CONFIGS) {
    const rate = await piscinaOnce(threads, config, { warmupMs: probeMs / 2, settleMaxMs: 0 }, probeMs);
    if (rate > bestRate) [best, bestRate] = [config, rate];
  }
  return best;
}

export async function measurePiscina(
  threads: number,
  config: PiscinaConfig,
  window: Window,
): Promise<ThroughputRow> {
  const stat = await repeat(window.runs, async () => {
    const rate = await piscinaOnce(threads, config, window, window.durationMs);
    return { total: rate, perCpu: rate / threads };
  });
  return {
    workload: 'no-op task',
    implementation: 'piscina',
    cpus: threads,
    params: { ...config },
    perSecond: stat.total,
    perSecondPerCpu: stat.perCpu,
  };
}
