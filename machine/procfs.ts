/** /proc/softirqs and /proc/interrupts, rendered from shared memory in the kernel's layout. */

import { softirq_to_name } from '../kernel/softirq.ts';
import { C_IRQ_COUNT, C_SOFTIRQ_COUNT, G_NR_CPUS } from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';

function cpuHeader(nrCpus: number, indent: number): string {
  let line = ' '.repeat(indent);
  for (let cpu = 0; cpu < nrCpus; cpu++) line += `CPU${cpu}`.padEnd(11);
  return `${line.trimEnd()}\n`;
}

export function render_softirqs(): string {
  const nrCpus = shm.mem[G_NR_CPUS];
  let out = cpuHeader(nrCpus, 20);
  softirq_to_name.forEach((name, nr) => {
    out += `${name.padStart(12)}:`;
    for (let cpu = 0; cpu < nrCpus; cpu++)
      out += ` ${String(shm.mem[shm.layout.cpu(cpu) + C_SOFTIRQ_COUNT + nr] >>> 0).padStart(10)}`;
    out += '\n';
  });
  return out;
}

/** Lines 0 and 1 are the local timer and function-call IPI, shown by their kernel mnemonics. */
export function render_interrupts(names: ReadonlyMap<number, string>): string {
  const nrCpus = shm.mem[G_NR_CPUS];
  let out = cpuHeader(nrCpus, 5);
  const count = (cpu: number, irq: number): string =>
    String(shm.mem[shm.layout.cpu(cpu) + C_IRQ_COUNT + irq] >>> 0).padStart(10);
  const row = (label: string, irq: number, description: string): void => {
    out += `${label.padStart(4)}:`;
    for (let cpu = 0; cpu < nrCpus; cpu++) out += ` ${count(cpu, irq)}`;
    out += `   ${description}\n`;
  };
  for (const [irq, name] of [...names].sort((a, b) => a[0] - b[0]))
    row(String(irq), irq, `tasklet-rt  ${name}`);
  row('LOC', 0, 'Local timer interrupts');
  row('CAL', 1, 'Function call interrupts');
  return out;
}
