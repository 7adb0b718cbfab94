/** Controller side of "local": K self-rescheduling tasklets per CPU, callback runs per second. */

import { type BenchMachine, checkHealthy, cpuList } from '../machine.ts';
import { COUNT_RUNS } from '../modules/channel.ts';
import type { LocalStart } from '../modules/local.ts';
import type { ThroughputRow } from '../results.ts';
import { sampleCounters } from '../sampling.ts';
import { repeat } from '../stats.ts';
import type { Window } from '../window.ts';

export interface LocalParams {
  tasklets: number;
  hi: boolean;
}

/** Starts the workload on every CPU; returns the function that stops it. */
export async function startLocal(
  bm: BenchMachine,
  cpus: number[],
  params: LocalParams,
): Promise<() => Promise<void>> {
  const start: LocalStart = { tasklets: params.tasklets, hi: params.hi };
  for (const cpu of cpus) await bm.machine.call(cpu, 'local.start', start);
  return async () => {
    for (const cpu of cpus) await bm.machine.call(cpu, 'local.stop');
    for (const cpu of cpus) await bm.machine.runTask(cpu, 'local.reap');
  };
}

export async function measureLocal(
  bm: BenchMachine,
  params: LocalParams,
  window: Window,
): Promise<ThroughputRow> {
  const cpus = cpuList(bm.machine.nrCpus);
  const stat = await repeat(window.runs, async () => {
    const stop = await startLocal(bm, cpus, params);
    try {
      const sample = await sampleCounters(cpus.length, window.warmupMs, window.durationMs, (cpu) => ({
        runs: bm.channel.read(cpu, COUNT_RUNS),
        requeues: 0,
      }));
      return { total: sample.total.runs, perCpu: sample.total.runs / cpus.length };
    } finally {
      await stop();
      checkHealthy(bm, 'local');
    }
  });
  return {
    workload: params.hi ? 'local-hi' : 'local',
    implementation: 'tasklet-rt',
    cpus: cpus.length,
    params: { taskletsPerCpu: params.tasklets, queue: params.hi ? 'hi' : 'normal' },
    perSecond: stat.total,
    perSecondPerCpu: stat.perCpu,
  };
}
