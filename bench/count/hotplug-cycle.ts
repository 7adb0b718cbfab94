/**
 * What one hotplug cycle costs in real time on an otherwise idle machine: cpuDown (the dying
 * CPU hands its queues to the heir and waits for the takeover) and cpuUp, each the mean of
 * `--cycles` after 20 left out for warm-up. Fuzz programs with a hotplug op pay this per op.
 *
 *   npx tsx bench/count/hotplug-cycle.ts [--cpus 2] [--cycles 200]
 */
import { Machine } from '../../machine/index.ts';
import { numberArg } from './args.ts';

const WARMUP = 20;
const cpus = numberArg('--cpus', 2);
const cycles = numberArg('--cycles', 200);
const machine = await Machine.boot({ cpus, hz: 1000 });
try {
  const cpu = cpus - 1;
  let down = 0;
  let up = 0;
  for (let k = 0; k < WARMUP + cycles; k++) {
    const started = performance.now();
    await machine.cpuDown(cpu);
    const dead = performance.now();
    await machine.cpuUp(cpu);
    if (k < WARMUP) continue;
    down += dead - started;
    up += performance.now() - dead;
  }
  const us = (total: number): string => ((total / cycles) * 1000).toFixed(0);
  console.log(`CPU${cpu} of ${cpus}, ${cycles} cycles: cpuDown ${us(down)} µs, cpuUp ${us(up)} µs (means)`);
} finally {
  await machine.shutdown();
}
