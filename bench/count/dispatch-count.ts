/**
 * Counts the work of one tasklet run on the local-dispatch path: Atomics operations by kind and
 * function calls (V8 precise coverage), per callback run, on a 1-CPU bench machine running the
 * "local" workload (16 self-rescheduling tasklets). Exact counts, independent of host load.
 *
 *   node cli/bin.mjs ... is not needed: run it with tsx:  npx tsx bench/count/dispatch-count.ts [--top N]
 */
import { fileURLToPath } from 'node:url';
import { Machine } from '../../machine/index.ts';
import { BenchChannel, COUNT_RUNS } from '../modules/channel.ts';
import { sleep } from '../sampling.ts';
import { startLocal } from '../workloads/local.ts';

const top = Number(process.argv[process.argv.indexOf('--top') + 1]) || 30;
const modules = ['control', 'local'].map((name) =>
  fileURLToPath(new URL(`../modules/${name}.ts`, import.meta.url)),
);
modules.push(fileURLToPath(new URL('./count-module.ts', import.meta.url)));

const machine = await Machine.boot({ cpus: 1, idlePollUs: 100, modules });
try {
  const channel = new BenchChannel();
  await machine.call(0, 'bench.attach', channel.sab);
  const stop = await startLocal({ machine, channel, cost: null as never }, [0], { tasklets: 16, hi: false });
  await sleep(300);
  await machine.call(0, 'count.start');
  const before = channel.read(0, COUNT_RUNS);
  await sleep(500);
  const after = channel.read(0, COUNT_RUNS);
  const { atomics, calls } = (await machine.call(0, 'count.take')) as {
    atomics: Record<string, number>;
    calls: Record<string, number>;
  };
  await stop();
  const runs = after - before;
  const per = (n: number) => (n / runs).toFixed(2);
  const totalAtomics = Object.values(atomics).reduce((a, b) => a + b, 0);
  console.log(`runs counted: ${runs} (the window includes the count calls' own irq entry)`);
  console.log(`Atomics per run: ${per(totalAtomics)}`);
  for (const [op, n] of Object.entries(atomics)) if (n > 0) console.log(`  ${op.padEnd(16)} ${per(n)}`);
  const rows = Object.entries(calls).sort((a, b) => b[1] - a[1]);
  const totalCalls = rows.reduce((sum, [, n]) => sum + n, 0);
  const door = rows.filter(([k]) => k.startsWith('shm/door.ts')).reduce((sum, [, n]) => sum + n, 0);
  console.log(`function calls per run: ${per(totalCalls)} (door: ${per(door)})`);
  for (const [key, n] of rows.slice(0, top))
    if (n / runs >= 0.01) console.log(`  ${per(n).padStart(7)}  ${key}`);
} finally {
  await machine.shutdown();
}
