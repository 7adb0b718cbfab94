/**
 * A machine booted for benchmarking: every bench module loaded, the bench channel attached on
 * every CPU, and what the boot cost (time, memory) measured on the way.
 */
import { fileURLToPath } from 'node:url';
import { Machine } from '../machine/index.ts';
import { BenchChannel } from './modules/channel.ts';
import type { WorkerHeap } from './modules/control.ts';
import type { MachineRow } from './results.ts';
import { sleep } from './sampling.ts';

const MODULES = ['control', 'local', 'shared', 'cross-cpu', 'irq-latency'].map((name) =>
  fileURLToPath(new URL(`./modules/${name}.ts`, import.meta.url)),
);

export interface BenchMachine {
  machine: Machine;
  channel: BenchChannel;
  cost: MachineRow;
}

/** The CPUs of a machine, 0..n-1. */
export const cpuList = (n: number): number[] => Array.from({ length: n }, (_, cpu) => cpu);

export async function bootBenchMachine(cpus: number, idlePollUs: number): Promise<BenchMachine> {
  const rssBefore = process.memoryUsage().rss;
  const machine = await Machine.boot({
    cpus,
    idlePollUs,
    deepInlining: true, // long dispatch loops: see machine/inlining.ts
    modules: MODULES,
    onPrintk: (cpu, level, text) => {
      if (level === 'err' || level === 'warning') process.stderr.write(`[bench CPU${cpu}] ${text}\n`);
    },
  });
  const channel = new BenchChannel();
  for (const cpu of cpuList(cpus)) await machine.call(cpu, 'bench.attach', channel.sab);
  await sleep(100); // let the workers settle before measuring their memory
  const rssPerCpuBytes = (process.memoryUsage().rss - rssBefore) / cpus;
  const heaps = (await Promise.all(
    cpuList(cpus).map((cpu) => machine.call(cpu, 'bench.heap')),
  )) as WorkerHeap[];
  const mean = (pick: (h: WorkerHeap) => number) => heaps.reduce((sum, h) => sum + pick(h), 0) / cpus;
  return {
    machine,
    channel,
    cost: {
      cpus,
      idlePollUs,
      bootMs: machine.bootMs,
      rssPerCpuBytes,
      heapUsedPerCpuBytes: mean((h) => h.usedBytes),
      heapTotalPerCpuBytes: mean((h) => h.totalBytes),
    },
  };
}

/** Fails the bench when a workload upset the machine (an oops, a dead worker). */
export function checkHealthy(bm: BenchMachine, workload: string): void {
  const { machine } = bm;
  if (machine.oopses.length > 0)
    throw new Error(`${workload}: oops on CPU${machine.oopses[0].cpu}: ${machine.oopses[0].message}`);
  if (machine.faults.length > 0) throw new Error(`${workload}: ${machine.faults[0].message}`);
}
