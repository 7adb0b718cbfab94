/**
 * Runs the bare baseline: N plain JS workers (bare-cpu.mjs) over one Int32Array, measured
 * exactly like the runtime's workloads (warm up, then count callback runs over a window).
 */
import { Worker } from 'node:worker_threads';
import { type CounterSample, sampleCounters, sleep } from '../sampling.ts';
import type { Warmup } from '../window.ts';
import { CPU, CPU_STRIDE, GLOBAL, TASKLET_STRIDE } from './bare-layout.mjs';

export type BareMode = 'local' | 'shared';

export interface BareRun {
  cpus: number;
  mode: BareMode;
  /** K private tasklets per CPU (local) or T shared tasklets (shared). */
  tasklets: number;
  warmup: Warmup;
  durationMs: number;
}

export async function runBare(run: BareRun): Promise<CounterSample> {
  const totalTasklets = run.mode === 'local' ? run.cpus * run.tasklets : run.tasklets + run.cpus;
  const sab = new SharedArrayBuffer((GLOBAL.tasklets + (totalTasklets + 1) * TASKLET_STRIDE) * 4);
  const mem = new Int32Array(sab);
  const entry = new URL('./bare-cpu.mjs', import.meta.url);
  const workers: Worker[] = [];
  const exits: Promise<void>[] = [];
  for (let cpu = 0; cpu < run.cpus; cpu++) {
    const worker = new Worker(entry, { workerData: { sab, cpu, mode: run.mode, tasklets: run.tasklets } });
    exits.push(
      new Promise((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', () => resolve());
      }),
    );
    workers.push(worker);
  }
  try {
    while (Atomics.load(mem, GLOBAL.ready) < run.cpus) await sleep(1);
    Atomics.store(mem, GLOBAL.go, 1);
    Atomics.notify(mem, GLOBAL.go);
    const word = (cpu: number, which: number) => Atomics.load(mem, GLOBAL.cpus + cpu * CPU_STRIDE + which);
    return await sampleCounters(run.cpus, run.warmup, run.durationMs, (cpu) => ({
      runs: word(cpu, CPU.runs),
      requeues: word(cpu, CPU.requeues),
    }));
  } finally {
    Atomics.store(mem, GLOBAL.stop, 1);
    await Promise.race([Promise.all(exits), sleep(2000)]);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
