/** Waking a CPU that sleeps on its wake word (idle loop or a sleeping wait). */
import { futex_wake, layout, raw_add } from '../shm/door.ts';
import { C_WAKE } from '../shm/layout.ts';

export function kick_cpu(cpu: number): void {
  const word = layout().cpu(cpu) + C_WAKE;
  raw_add(word, 1);
  futex_wake(word, 1);
}
