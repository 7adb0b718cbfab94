/** cpu_online_mask in shared memory (64 bits as two words). */
import { raw_and, raw_load, raw_or } from '../shm/door.ts';
import { G_NR_CPUS, G_ONLINE_MASK } from '../shm/layout.ts';

export function cpu_online(cpu: number): boolean {
  return (raw_load(G_ONLINE_MASK + (cpu >> 5)) & (1 << (cpu & 31))) !== 0;
}

export function set_cpu_online(cpu: number, online: boolean): void {
  const word = G_ONLINE_MASK + (cpu >> 5);
  const bit = 1 << (cpu & 31);
  if (online) raw_or(word, bit);
  else raw_and(word, ~bit);
}

export function nr_cpu_ids(): number {
  return raw_load(G_NR_CPUS);
}

export function num_online_cpus(): number {
  let n = 0;
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) if (cpu_online(cpu)) n++;
  return n;
}

export function online_cpus(): number[] {
  const cpus: number[] = [];
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) if (cpu_online(cpu)) cpus.push(cpu);
  return cpus;
}

/** The first online CPU other than `except`, or -1. */
export function cpumask_any_but(except: number): number {
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) if (cpu !== except && cpu_online(cpu)) return cpu;
  return -1;
}
