/** Measuring a running workload: warm up, read counters, wait a window, read them again. */

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

/**
 * Lets the workload warm up (JIT tiers, caches), then takes the counters' difference over
 * `durationMs` of wall time. The counters are read from shared memory without stopping anyone.
 */
export async function sampleCounters(
  cpus: number,
  warmupMs: number,
  durationMs: number,
  read: (cpu: number) => Counters,
): Promise<CounterSample> {
  await sleep(warmupMs);
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
