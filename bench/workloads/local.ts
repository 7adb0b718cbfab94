/** Controller side of "local": K self-rescheduling tasklets per CPU, callback runs per second. */

import { type BenchMachine, checkHealthy, cpuList } from '../machine.ts';
import { COUNT_RUNS } from '../modules/channel.ts';
import type { LocalStart } from '../modules/local.ts';
import type { ThroughputRow } from '../results.ts';
import { sampleCounters } from '../sampling.ts';
import { repeat, type Stat, summarize } from '../stats.ts';
import type { Window } from '../window.ts';
import { bareOnce, bareRow } from './baseline-bare.ts';

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

/** One measured window of the workload on every CPU of the machine. */
async function localOnce(
  bm: BenchMachine,
  params: LocalParams,
  window: Window,
): Promise<{ total: number; perCpu: number }> {
  const cpus = cpuList(bm.machine.nrCpus);
  const stop = await startLocal(bm, cpus, params);
  try {
    const sample = await sampleCounters(cpus.length, window, window.durationMs, (cpu) => ({
      runs: bm.channel.read(cpu, COUNT_RUNS),
      requeues: 0,
    }));
    return { total: sample.total.runs, perCpu: sample.total.runs / cpus.length };
  } finally {
    await stop();
    checkHealthy(bm, 'local');
  }
}

function localRow(params: LocalParams, cpus: number, stat: { total: Stat; perCpu: Stat }): ThroughputRow {
  return {
    workload: params.hi ? 'local-hi' : 'local',
    implementation: 'tasklet-rt',
    cpus,
    params: { taskletsPerCpu: params.tasklets, queue: params.hi ? 'hi' : 'normal' },
    perSecond: stat.total,
    perSecondPerCpu: stat.perCpu,
  };
}

export async function measureLocal(
  bm: BenchMachine,
  params: LocalParams,
  window: Window,
): Promise<ThroughputRow> {
  const stat = await repeat(window.runs, () => localOnce(bm, params, window));
  return localRow(params, bm.machine.nrCpus, stat);
}

/**
 * The runtime and the bare ceiling in alternation, window after window (the machine stays up,
 * idle, while the bare workers run): on a shared host whose load comes and goes, both sides of
 * the ratio then see the same load, which two runs one after the other do not.
 */
export async function measureLocalWithBare(
  bm: BenchMachine,
  params: LocalParams,
  window: Window,
): Promise<[ThroughputRow, ThroughputRow]> {
  const cpus = bm.machine.nrCpus;
  const rt: { total: number; perCpu: number }[] = [];
  const stat = await repeat(window.runs, async () => {
    rt.push(await localOnce(bm, params, window));
    return bareOnce(cpus, 'local', params.tasklets, window);
  });
  const rtStat = {
    total: summarize(rt.map((r) => r.total)),
    perCpu: summarize(rt.map((r) => r.perCpu)),
  };
  return [localRow(params, cpus, rtStat), bareRow(cpus, 'local', params.tasklets, stat)];
}
