/** Controller side of "cross-cpu": the CPU0 ⇄ CPU1 ping-pong; hops per second and hop latency. */

import { decodeHistogram, distributionUs, newHistogram, percentilesUs } from '../histogram.ts';
import { type BenchMachine, checkHealthy } from '../machine.ts';
import { COUNT_HOPS } from '../modules/channel.ts';
import type { CrossStart } from '../modules/cross-cpu.ts';
import type { LatencyRow } from '../results.ts';
import { NO_WARMUP, sampleCounters, warmUp } from '../sampling.ts';
import { summarize } from '../stats.ts';
import type { Window } from '../window.ts';

const PAIR = [0, 1];

export async function measureCrossCpu(bm: BenchMachine, window: Window): Promise<LatencyRow> {
  const { machine, channel } = bm;
  const merged = newHistogram();
  const perRun: ReturnType<typeof percentilesUs>[] = [];
  const rates: number[] = [];
  for (let run = 0; run < window.runs; run++) {
    const receiver: CrossStart = { peer: 0, serve: false };
    const server: CrossStart = { peer: 1, serve: true };
    await machine.call(1, 'cross.start', receiver);
    await machine.call(0, 'cross.start', server);
    try {
      const hops = (cpu: number) => ({ runs: channel.read(cpu, COUNT_HOPS), requeues: 0 });
      await warmUp(PAIR.length, window, hops);
      for (const cpu of PAIR) await machine.call(cpu, 'cross.reset');
      const sample = await sampleCounters(PAIR.length, NO_WARMUP, window.durationMs, hops);
      rates.push(sample.total.runs);
    } finally {
      const h = newHistogram();
      for (const cpu of PAIR) h.add(decodeHistogram((await machine.call(cpu, 'cross.stop')) as string));
      for (const cpu of PAIR) await machine.runTask(cpu, 'cross.reap');
      perRun.push(percentilesUs(h));
      merged.add(h);
      checkHealthy(bm, 'cross-cpu');
    }
  }
  return {
    workload: 'cross-cpu ping-pong',
    target: 'idle peer (spin then sleep)',
    cpus: machine.nrCpus,
    idlePollUs: bm.cost.idlePollUs,
    samples: merged.totalCount,
    lost: 0,
    p50: summarize(perRun.map((p) => p.p50)),
    p99: summarize(perRun.map((p) => p.p99)),
    p999: summarize(perRun.map((p) => p.p999)),
    max: summarize(perRun.map((p) => p.max)),
    distribution: distributionUs(merged),
    perSecond: summarize(rates),
  };
}
