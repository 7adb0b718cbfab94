/**
 * This thread's view of the machine's shared memory. A CPU worker or the controller calls
 * `attachMemory` once; everything else reads `shm`.
 */
import { type Layout, type LayoutParams, type MachineMemory, viewMemory } from './layout.ts';

interface AttachedMemory {
  mem: Int32Array;
  f64: Float64Array;
  layout: Layout;
  sab: SharedArrayBuffer | null;
}

export const shm: AttachedMemory = {
  mem: new Int32Array(0),
  f64: new Float64Array(0),
  layout: null as unknown as Layout,
  sab: null,
};

export function attachMemory(memory: MachineMemory): void {
  shm.mem = memory.mem;
  shm.f64 = memory.f64;
  shm.layout = memory.layout;
  shm.sab = memory.sab;
}

export function attachBuffer(sab: SharedArrayBuffer, params: LayoutParams): void {
  attachMemory(viewMemory(sab, params));
}
