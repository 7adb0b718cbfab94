/**
 * Host-CPU time per tasklet run, tasklet-rt against the bare algorithm, on N CPUs (default 1):
 * each side's worker threads read their own time on a core (/proc/thread-self/schedstat, Linux)
 * before and after a window, so time spent waiting for a core (a loaded host) does not count.
 * Less noisy than runs per second on a shared machine; still subject to cache and frequency
 * effects. With `--cpus 2` it shows what a second busy CPU costs each run on either side.
 *
 * The runtime's machine has MachineOptions.deepInlining, as the bench's do; `--default-inlining`
 * measures it without.
 *
 *   npx tsx bench/count/cpu-per-run.ts [--cpus 1] [--ms 1000] [--rounds 3] [--default-inlining]
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Machine } from '../../machine/index.ts';
import { GLOBAL, TASKLET_STRIDE } from '../bare/bare-layout.mjs';
import { BenchChannel, COUNT_RUNS } from '../modules/channel.ts';
import { sleep, warmUp } from '../sampling.ts';
import { FULL_WARMUP } from '../window.ts';
import { startLocal } from '../workloads/local.ts';
import { flag, numberArg } from './args.ts';

const cpus = numberArg('--cpus', 1);
const windowMs = numberArg('--ms', 1000);
const rounds = numberArg('--rounds', 3);
const deepInlining = !flag('--default-inlining');
const TASKLETS = 16;
const cpuList = Array.from({ length: cpus }, (_, cpu) => cpu);
if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) {
  console.error(
    `cpu-per-run: --cpus must be an integer from 1 to 64, got ${process.argv[process.argv.indexOf('--cpus') + 1]}`,
  );
  process.exit(2);
}

/** Nanoseconds of its own core time per run, for each CPU of a tasklet-rt machine. */
async function runtimeNsPerRun(): Promise<number[]> {
  const modules = ['control', 'local'].map((n) =>
    fileURLToPath(new URL(`../modules/${n}.ts`, import.meta.url)),
  );
  modules.push(fileURLToPath(new URL('./count-module.ts', import.meta.url)));
  const machine = await Machine.boot({ cpus, idlePollUs: 100, modules, deepInlining });
  try {
    const channel = new BenchChannel();
    for (const cpu of cpuList) await machine.call(cpu, 'bench.attach', channel.sab);
    const stop = await startLocal({ machine, channel, cost: null as never }, cpuList, {
      tasklets: TASKLETS,
      hi: false,
    });
    const runs = (cpu: number): number => channel.read(cpu, COUNT_RUNS);
    await warmUp(cpus, FULL_WARMUP, (cpu) => ({ runs: runs(cpu), requeues: 0 }));
    const coreNs = (): Promise<number[]> =>
      Promise.all(cpuList.map((cpu) => machine.call(cpu, 'count.cpu-ns') as Promise<number>));
    const ns0 = await coreNs();
    const runs0 = cpuList.map(runs);
    await sleep(windowMs);
    const ns1 = await coreNs();
    const runs1 = cpuList.map(runs);
    await stop();
    return cpuList.map((cpu) => (ns1[cpu] - ns0[cpu]) / ((runs1[cpu] - runs0[cpu]) >>> 0));
  } finally {
    await machine.shutdown();
  }
}

/** The same for the bare algorithm's workers, one per CPU. */
async function bareNsPerRun(): Promise<number[]> {
  const sab = new SharedArrayBuffer((GLOBAL.tasklets + (cpus * TASKLETS + 1) * TASKLET_STRIDE) * 4);
  const mem = new Int32Array(sab);
  const workers = cpuList.map(
    (cpu) =>
      new Worker(new URL('../bare/bare-cpu.mjs', import.meta.url), {
        workerData: { sab, cpu, mode: 'local', tasklets: TASKLETS, reportCpuNs: true },
      }),
  );
  const reports = workers.map(
    (worker) => new Promise<{ cpuNs: number; runs: number }>((resolve) => worker.once('message', resolve)),
  );
  while (Atomics.load(mem, GLOBAL.ready) < cpus) await sleep(1);
  Atomics.store(mem, GLOBAL.go, 1);
  Atomics.notify(mem, GLOBAL.go);
  await sleep(300 + windowMs);
  Atomics.store(mem, GLOBAL.stop, 1);
  const done = await Promise.all(reports);
  await Promise.all(workers.map((worker) => worker.terminate()));
  return done.map(({ cpuNs, runs }) => cpuNs / runs);
}

const mean = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / values.length;
const show = (values: number[]): string =>
  values.length === 1
    ? values[0].toFixed(1)
    : `${mean(values).toFixed(1)} (${values.map((v) => v.toFixed(1)).join(' / ')})`;

for (let round = 0; round < rounds; round++) {
  const rt = await runtimeNsPerRun();
  const bare = await bareNsPerRun();
  console.log(
    `round ${round + 1}, ${cpus} CPU${cpus > 1 ? 's' : ''}: tasklet-rt ${show(rt)} ns/run, bare ${show(bare)} ns/run: ` +
      `ratio ${(mean(bare) / mean(rt)).toFixed(2)} x (CPU time)`,
  );
}
