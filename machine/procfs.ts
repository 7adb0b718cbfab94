/**
 * /proc/softirqs and /proc/interrupts, rendered from shared memory in the kernel's layout
 * (fs/proc/softirqs.c and kernel/irq/proc.c with x86's arch lines), trailing spaces included.
 */

import { softirq_to_name } from '../kernel/softirq.ts';
import { C_IRQ_COUNT, C_SOFTIRQ_COUNT, G_NR_CPUS, G_ONLINE_MASK, NR_IRQS } from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';

const count = (cpu: number, word: number): number => Atomics.load(shm.mem, shm.layout.cpu(cpu) + word) >>> 0;

function onlineCpus(): number[] {
  const cpus: number[] = [];
  for (let cpu = 0; cpu < shm.mem[G_NR_CPUS]; cpu++)
    if ((Atomics.load(shm.mem, G_ONLINE_MASK + (cpu >> 5)) & (1 << (cpu & 31))) !== 0) cpus.push(cpu);
  return cpus;
}

/** `CPU%-8d` per CPU after `indent` spaces. */
function cpuHeader(cpus: number[], indent: number): string {
  return `${' '.repeat(indent)}${cpus.map((cpu) => `CPU${String(cpu).padEnd(8)}`).join('')}\n`;
}

/** Every possible CPU, online or not, as show_softirqs does. */
export function render_softirqs(): string {
  const cpus = Array.from({ length: shm.mem[G_NR_CPUS] }, (_, cpu) => cpu);
  let out = cpuHeader(cpus, 20);
  softirq_to_name.forEach((name, nr) => {
    out += `${name.padStart(12)}:`;
    for (const cpu of cpus) out += ` ${String(count(cpu, C_SOFTIRQ_COUNT + nr)).padStart(10)}`;
    out += '\n';
  });
  return out;
}

/** The width of the first column: 3 digits for up to 999 lines. */
const PREC = Math.max(3, String(NR_IRQS).length);

/**
 * Online CPUs only. `names` holds the lines a handler is registered on (a failed request_irq
 * leaves none); lines 0 and 1 are the local timer and function-call IPI, shown at the end by
 * their x86 mnemonics as arch_show_interrupts prints them.
 */
export function render_interrupts(names: ReadonlyMap<number, string>): string {
  const cpus = onlineCpus();
  let out = cpuHeader(cpus, PREC + 8);
  const counts = (irq: number): string =>
    cpus.map((cpu) => `${String(count(cpu, C_IRQ_COUNT + irq)).padStart(10)} `).join('');
  for (const [irq, name] of [...names].sort((a, b) => a[0] - b[0])) {
    // "%*d: ", counts, " %8s" chip, " %*lu" hwirq, "-%-8s" flow name, "  %s" action
    out += `${String(irq).padStart(PREC)}: ${counts(irq)} ${'tasklet'.padStart(8)} ${String(irq).padStart(PREC)}-${'edge'.padEnd(8)}  ${name}\n`;
  }
  out += `${'LOC'.padStart(PREC)}: ${counts(0)}  Local timer interrupts\n`;
  out += `${'CAL'.padStart(PREC)}: ${counts(1)}  Function call interrupts\n`;
  return out;
}
