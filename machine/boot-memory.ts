/**
 * The machine's memory before any CPU runs: the global words the controller sets (size, HZ, the
 * first dynamic pid; the tick count starts at 0, jiffies at INITIAL_JIFFIES). Everything per
 * CPU is the CPU's own bring-up.
 */
import { FIRST_DYNAMIC_PID } from '../kernel/sched.ts';
import {
  createMemory,
  G_HZ,
  G_MAGIC,
  G_MAX_TASKLETS,
  G_NEXT_PID,
  G_NR_CPUS,
  MAGIC,
  type MachineMemory,
} from '../shm/layout.ts';
import type { MachineSize } from './options.ts';

export function createMachineMemory({ nrCpus, hz, maxTasklets }: MachineSize): MachineMemory {
  const memory = createMemory({ nrCpus, maxTasklets });
  const { mem } = memory;
  mem[G_MAGIC] = MAGIC;
  mem[G_NR_CPUS] = nrCpus;
  mem[G_HZ] = hz;
  mem[G_NEXT_PID] = FIRST_DYNAMIC_PID;
  mem[G_MAX_TASKLETS] = maxTasklets;
  return memory;
}
