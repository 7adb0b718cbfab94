/** The bare rows: the same workloads on bare-cpu.mjs (no runtime layers), the ceiling. */
import { type BareMode, runBare } from '../bare/bare.ts';
import type { ThroughputRow } from '../results.ts';
import { repeat, type Stat } from '../stats.ts';
import type { Window } from '../window.ts';

/** One measured window of the bare workers. */
export async function bareOnce(
  cpus: number,
  mode: BareMode,
  tasklets: number,
  window: Window,
): Promise<{ total: number; perCpu: number; requeues: number }> {
  const sample = await runBare({
    cpus,
    mode,
    tasklets,
    warmup: window,
    durationMs: window.durationMs,
  });
  return { total: sample.total.runs, perCpu: sample.total.runs / cpus, requeues: sample.total.requeues };
}

export function bareRow(
  cpus: number,
  mode: BareMode,
  tasklets: number,
  stat: { total: Stat; perCpu: Stat; requeues: Stat },
): ThroughputRow {
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

export async function measureBare(
  cpus: number,
  mode: BareMode,
  tasklets: number,
  window: Window,
): Promise<ThroughputRow> {
  const stat = await repeat(window.runs, () => bareOnce(cpus, mode, tasklets, window));
  return bareRow(cpus, mode, tasklets, stat);
}
