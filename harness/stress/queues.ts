/**
 * Reads every CPU's tasklet queues from shared memory, independently of the code that builds
 * them. Used when the machine is quiet (drain), to tell a lost tasklet from a slow one.
 */

import type { Machine } from '../../machine/machine.ts';
import { C_HI_HEAD, C_VEC_HEAD, T_NEXT } from '../../shm/layout.ts';

export interface QueueWalk {
  /** tasklet id → the CPUs whose queues hold it (twice on one queue counts twice). */
  holders: Map<number, number[]>;
  /** Queues whose chain is longer than the table (a cycle). */
  cycles: number[];
}

export function walkQueues(machine: Machine, maxTasklets: number): QueueWalk {
  const { mem, layout } = machine.memory;
  const holders = new Map<number, number[]>();
  const cycles: number[] = [];
  for (let cpu = 0; cpu < machine.nrCpus; cpu++) {
    for (const head of [C_VEC_HEAD, C_HI_HEAD]) {
      let ptr = Atomics.load(mem, layout.cpu(cpu) + head);
      for (let steps = 0; ptr !== 0; steps++) {
        if (steps > maxTasklets) {
          cycles.push(cpu);
          break;
        }
        const id = ptr - 1;
        holders.set(id, [...(holders.get(id) ?? []), cpu]);
        ptr = Atomics.load(mem, layout.tasklet(id) + T_NEXT);
      }
    }
  }
  return { holders, cycles };
}
