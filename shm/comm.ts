/**
 * pid → comm in shared memory: written as a task is created, read by the controller (watchdog
 * reports, trace output), which has no other way to name a CPU's tasks.
 */
import { type MachineMemory, TASK_COMM_LEN } from './layout.ts';
import { shm } from './memory.ts';

export function publish_comm(pid: number, comm: string): void {
  const slot = shm.layout.pidComm(pid);
  for (let word = 0; word < TASK_COMM_LEN / 4; word++) {
    let packed = 0;
    for (let byte = 0; byte < 4; byte++) {
      const i = word * 4 + byte; // the kernel keeps 15 characters and a NUL
      if (i < TASK_COMM_LEN - 1 && i < comm.length) packed |= (comm.charCodeAt(i) & 0xff) << (byte * 8);
    }
    shm.mem[slot + 1 + word] = packed;
  }
  Atomics.store(shm.mem, slot, pid);
}

/** The comm `pid` published, or null if its slot holds another pid (or none). */
export function read_comm({ mem, layout }: MachineMemory, pid: number): string | null {
  const slot = layout.pidComm(pid);
  if (Atomics.load(mem, slot) !== pid) return null;
  let comm = '';
  for (let i = 0; i < TASK_COMM_LEN; i++) {
    const code = (mem[slot + 1 + (i >> 2)] >>> ((i & 3) * 8)) & 0xff;
    if (code === 0) break;
    comm += String.fromCharCode(code);
  }
  return comm;
}
