/**
 * Host-CPU time per tasklet run, tasklet-rt against the bare algorithm, on 1 CPU: each side's
 * worker thread reads its own time on a core (/proc/thread-self/schedstat, Linux) before and
 * after a window, so time spent waiting for a core (a loaded host) does not count. Less noisy
 * than runs per second on a shared machine; still subject to cache and frequency effects.
 *
 * The runtime's machine has MachineOptions.deepInlining, as the bench's do; `--default-inlining`
 * measures it without.
 *
 *   npx tsx bench/count/cpu-per-run.ts [--ms 1000] [--rounds 3] [--default-inlining]
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Machine } from '../../machine/index.ts';
import { CPU, CPU_STRIDE, GLOBAL, TASKLET_STRIDE } from '../bare/bare-layout.mjs';
import { BenchChannel, COUNT_RUNS } from '../modules/channel.ts';
import { sleep, warmUp } from '../sampling.ts';
import { FULL_WARMUP } from '../window.ts';
import { startLocal } from '../workloads/local.ts';
import { flag, numberArg } from './args.ts';

const windowMs = numberArg('--ms', 1000);
const rounds = numberArg('--rounds', 3);
const deepInlining = !flag('--default-inlining');
const TASKLETS = 16;

async function runtimeNsPerRun(): Promise<number> {
  const modules = ['control', 'local'].map((n) =>
    fileURLToPath(new URL(`../modules/${n}.ts`, import.meta.url)),
  );
  modules.push(fileURLToPath(new URL('./count-module.ts', import.meta.url)));
  const machine = await Machine.boot({ cpus: 1, idlePollUs: 100, modules, deepInlining });
  try {
    const channel = new BenchChannel();
    await machine.call(0, 'bench.attach', channel.sab);
    const stop = await startLocal({ machine, channel, cost: null as never }, [0], {
      tasklets: TASKLETS,
      hi: false,
    });
    await warmUp(1, FULL_WARMUP, () => ({
      runs: channel.read(0, COUNT_RUNS),
      requeues: 0,
    }));
    const ns0 = (await machine.call(0, 'count.cpu-ns')) as number;
    const runs0 = channel.read(0, COUNT_RUNS);
    await sleep(windowMs);
    const ns1 = (await machine.call(0, 'count.cpu-ns')) as number;
    const runs1 = channel.read(0, COUNT_RUNS);
    await stop();
    return (ns1 - ns0) / ((runs1 - runs0) >>> 0);
  } finally {
    await machine.shutdown();
  }
}

async function bareNsPerRun(): Promise<number> {
  const sab = new SharedArrayBuffer((GLOBAL.tasklets + (TASKLETS + 1) * TASKLET_STRIDE) * 4);
  const mem = new Int32Array(sab);
  const worker = new Worker(new URL('../bare/bare-cpu.mjs', import.meta.url), {
    workerData: { sab, cpu: 0, mode: 'local', tasklets: TASKLETS, reportCpuNs: true },
  });
  const report = new Promise<{ cpuNs: number; runs: number }>((resolve) => worker.once('message', resolve));
  while (Atomics.load(mem, GLOBAL.ready) < 1) await sleep(1);
  Atomics.store(mem, GLOBAL.go, 1);
  Atomics.notify(mem, GLOBAL.go);
  await sleep(300 + windowMs);
  Atomics.store(mem, GLOBAL.stop, 1);
  const { cpuNs, runs } = await report;
  await worker.terminate();
  void CPU;
  void CPU_STRIDE;
  return cpuNs / runs;
}

for (let round = 0; round < rounds; round++) {
  const rt = await runtimeNsPerRun();
  const bare = await bareNsPerRun();
  console.log(
    `round ${round + 1}: tasklet-rt ${rt.toFixed(1)} ns/run, bare ${bare.toFixed(1)} ns/run: ratio ${(bare / rt).toFixed(2)} x (CPU time)`,
  );
}
