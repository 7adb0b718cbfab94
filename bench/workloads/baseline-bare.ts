/** The bare rows: the same workloads on bare-cpu.mjs (no runtime layers), the ceiling. */
import { type BareMode, runBare } from '../bare/bare.ts';
import type { ThroughputRow } from '../results.ts';
import { repeat } from '../stats.ts';
import type { Window } from '../window.ts';

export async function measureBare(
  cpus: number,
  mode: BareMode,
  tasklets: number,
  window: Window,
): Promise<ThroughputRow> {
  const stat = await repeat(window.runs, async () => {
    const sample = await runBare({
      cpus,
      mode,
      tasklets,
      warmupMs: window.warmupMs,
      durationMs: window.durationMs,
    });
    return { total: sample.total.runs, perCpu: sample.total.runs / cpus, requeues: sample.total.requeues };
  });
  return {
    workload: mode,
    implementation: 'bare',
    cpus,
    params:
      mode === 'local'
        ? { taskletsPerCpu: tasklets, queue: 'normal' }
        : { sharedTasklets: tasklets, queue: 'normal' },
    perSecond: stat.total,
    perSecondPerCpu: stat.perCpu,
    ...(mode === 'shared' ? { requeuesPerSecond: stat.requeues } : {}),
  };
}
