/** Waking a CPU that sleeps in Atomics.wait on its wake word (idle loop or a sleeping wait). */
import { C_WAKE } from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';

export function kick_cpu(cpu: number): void {
  const word = shm.layout.cpu(cpu) + C_WAKE;
  Atomics.add(shm.mem, word, 1);
  Atomics.notify(shm.mem, word, 1);
}
