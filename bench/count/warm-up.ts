/**
 * How a fresh machine warms up: the local workload's run rate in 250 ms slices from its start,
 * on a machine booted as the bench boots its machines (deepInlining), then the steady host-CPU
 * cost per run on CPU 0. Shows how long TurboFan takes to compile the softirq loop: the reason
 * the bench warms up until the rate settles (bench/window.ts).
 *
 *   npx tsx bench/count/warm-up.ts [--cpus 2] [--slices 16] [--default-inlining]
 */
import { fileURLToPath } from 'node:url';
import { Machine } from '../../machine/index.ts';
import { cpuList } from '../machine.ts';
import { BenchChannel, COUNT_RUNS } from '../modules/channel.ts';
import { sleep } from '../sampling.ts';
import { startLocal } from '../workloads/local.ts';
import { flag, numberArg } from './args.ts';

const cpus = numberArg('--cpus', 2);
const slices = numberArg('--slices', 16);
const deepInlining = !flag('--default-inlining');
const SLICE_MS = 250;
const STEADY_WINDOWS = 4;

const modules = ['control', 'local'].map((n) =>
  fileURLToPath(new URL(`../modules/${n}.ts`, import.meta.url)),
);
modules.push(fileURLToPath(new URL('./count-module.ts', import.meta.url)));
const machine = await Machine.boot({ cpus, idlePollUs: 100, modules, deepInlining });
try {
  const channel = new BenchChannel();
  for (const cpu of cpuList(cpus)) await machine.call(cpu, 'bench.attach', channel.sab);
  const stop = await startLocal({ machine, channel, cost: null as never }, cpuList(cpus), {
    tasklets: 16,
    hi: false,
  });
  const runs = () => cpuList(cpus).map((cpu) => channel.read(cpu, COUNT_RUNS));
  const rates: string[] = [];
  let before = runs();
  let at = performance.now();
  for (let slice = 0; slice < slices; slice++) {
    await sleep(SLICE_MS);
    const after = runs();
    const now = performance.now();
    const done = after.reduce((sum, r, cpu) => sum + ((r - before[cpu]) >>> 0), 0);
    rates.push((done / (now - at) / 1000).toFixed(2));
    [before, at] = [after, now];
  }
  const nsPerRun: string[] = [];
  for (let w = 0; w < STEADY_WINDOWS; w++) {
    const ns0 = (await machine.call(0, 'count.cpu-ns')) as number;
    const runs0 = channel.read(0, COUNT_RUNS);
    await sleep(500);
    const ns1 = (await machine.call(0, 'count.cpu-ns')) as number;
    nsPerRun.push(((ns1 - ns0) / ((channel.read(0, COUNT_RUNS) - runs0) >>> 0)).toFixed(0));
  }
  await stop();
  console.log(`${cpus} CPU(s), ${deepInlining ? 'deepInlining' : 'default inlining'}`);
  console.log(`M runs/s per ${SLICE_MS} ms from the start: ${rates.join(' ')}`);
  console.log(`then CPU 0's host-CPU ns per run, ${STEADY_WINDOWS} × 500 ms: ${nsPerRun.join(' ')}`);
} finally {
  await machine.shutdown();
}
