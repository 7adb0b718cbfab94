/**
 * Controller side of "latency": stamp, machine.raiseIrq, spin until the tasklet's entry stamp
 * appears, record the difference (both stamps from the shared clock). A random gap separates
 * samples so the target is in the state being measured: busy with tasklets, idle and still
 * polling (gap inside its idlePollUs window), or idle and asleep (gap well past it).
 */
import { absoluteMs } from '../../shm/clock.ts';
import { distributionUs, newHistogram, percentilesUs } from '../histogram.ts';
import { type BenchMachine, checkHealthy } from '../machine.ts';
import { COUNT_RUNS, STAMP_ENTRY, WORD_ENTRY_SEQ } from '../modules/channel.ts';
import { PROBE_IRQ } from '../modules/irq-latency.ts';
import type { LatencyRow } from '../results.ts';
import { warmUp } from '../sampling.ts';
import { summarize } from '../stats.ts';
import type { Window } from '../window.ts';
import { startLocal } from './local.ts';

export type Target = 'busy' | 'idle-spin' | 'idle-sleep';

/** Give up on one sample after this long (counted as lost). */
const SAMPLE_TIMEOUT_MS = 100;
const CPU = 0;

/** Gap before the next raise, in µs: [min, max]. */
function gapUs(target: Target, idlePollUs: number): [number, number] {
  if (target === 'busy') return [10, 60];
  if (target === 'idle-spin') return [2, Math.max(3, idlePollUs / 2)];
  return [idlePollUs + 300, idlePollUs + 1000];
}

function spinUntil(ms: number): void {
  while (absoluteMs() < ms) {}
}

export async function measureIrqLatency(
  bm: BenchMachine,
  target: Target,
  busyTasklets: number,
  window: Window,
): Promise<LatencyRow> {
  const { machine, channel } = bm;
  const idlePollUs = bm.cost.idlePollUs;
  const [gapMin, gapMax] = gapUs(target, idlePollUs);
  await machine.call(CPU, 'latency.init');
  const stopLoad =
    target === 'busy' ? await startLocal(bm, [CPU], { tasklets: busyTasklets, hi: false }) : null;
  const merged = newHistogram();
  const perRun: ReturnType<typeof percentilesUs>[] = [];
  let lost = 0;
  try {
    // Busy: until the workload ahead of the probe runs at its steady rate (see Warmup).
    const busyRuns = () => ({ runs: channel.read(CPU, COUNT_RUNS), requeues: 0 });
    await warmUp(1, target === 'busy' ? window : { ...window, settleMaxMs: 0 }, busyRuns);
    for (let run = 0; run < window.runs; run++) {
      const h = newHistogram();
      const end = absoluteMs() + window.durationMs;
      while (absoluteMs() < end) {
        const seq = Atomics.load(channel.words, WORD_ENTRY_SEQ);
        const sent = absoluteMs();
        machine.raiseIrq(CPU, PROBE_IRQ);
        while (
          Atomics.load(channel.words, WORD_ENTRY_SEQ) === seq &&
          absoluteMs() - sent < SAMPLE_TIMEOUT_MS
        ) {}
        if (Atomics.load(channel.words, WORD_ENTRY_SEQ) === seq) lost++;
        else h.recordValue(Math.max(0, Math.round((channel.stamps[STAMP_ENTRY] - sent) * 1e6)));
        spinUntil(absoluteMs() + (gapMin + Math.random() * (gapMax - gapMin)) / 1000);
      }
      perRun.push(percentilesUs(h));
      merged.add(h);
      await new Promise((r) => setImmediate(r)); // let the machine's messages through
    }
  } finally {
    await stopLoad?.();
    await machine.runTask(CPU, 'latency.reap');
    checkHealthy(bm, `latency (${target})`);
  }
  return {
    workload: 'irq→tasklet',
    target: target === 'busy' ? `busy (${busyTasklets} tasklets running)` : target,
    cpus: machine.nrCpus,
    idlePollUs,
    samples: merged.totalCount,
    lost,
    p50: summarize(perRun.map((p) => p.p50)),
    p99: summarize(perRun.map((p) => p.p99)),
    p999: summarize(perRun.map((p) => p.p999)),
    max: summarize(perRun.map((p) => p.max)),
    distribution: distributionUs(merged),
  };
}
