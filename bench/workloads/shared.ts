/** Controller side of "shared": T tasklets hammered by every CPU; runs and requeues per second. */
import { C_REQUEUES } from '../../shm/layout.ts';
import { type BenchMachine, checkHealthy, cpuList } from '../machine.ts';
import { COUNT_RUNS } from '../modules/channel.ts';
import type { SharedStart } from '../modules/shared.ts';
import type { ThroughputRow } from '../results.ts';
import { sampleCounters } from '../sampling.ts';
import { repeat } from '../stats.ts';
import type { Window } from '../window.ts';

export interface SharedParams {
  tasklets: number;
  hi: boolean;
}

export async function measureShared(
  bm: BenchMachine,
  params: SharedParams,
  window: Window,
): Promise<ThroughputRow> {
  const { machine } = bm;
  const cpus = cpuList(machine.nrCpus);
  const stat = await repeat(window.runs, async () => {
    const ids = (await machine.call(0, 'shared.alloc', params.tasklets)) as number[];
    const start: SharedStart = { ids, hi: params.hi };
    for (const cpu of cpus) await machine.call(cpu, 'shared.start', start);
    try {
      const sample = await sampleCounters(cpus.length, window, window.durationMs, (cpu) => ({
        runs: bm.channel.read(cpu, COUNT_RUNS),
        requeues: machine.cpuWord(cpu, C_REQUEUES),
      }));
      return {
        total: sample.total.runs,
        perCpu: sample.total.runs / cpus.length,
        requeues: sample.total.requeues,
      };
    } finally {
      for (const cpu of cpus) await machine.call(cpu, 'shared.stop');
      for (const cpu of cpus) await machine.runTask(cpu, 'shared.reap', cpu === cpus.length - 1);
      checkHealthy(bm, 'shared');
    }
  });
  return {
    workload: params.hi ? 'shared-hi' : 'shared',
    implementation: 'tasklet-rt',
    cpus: cpus.length,
    params: { sharedTasklets: params.tasklets, queue: params.hi ? 'hi' : 'normal' },
    perSecond: stat.total,
    perSecondPerCpu: stat.perCpu,
    requeuesPerSecond: stat.requeues,
  };
}
