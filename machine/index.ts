/**
 * tasklet-rt/machine: the controller side. Boots an emulated SMP machine (one worker thread per
 * CPU over one SharedArrayBuffer), drives it, and reads its state. Runs on the main thread;
 * kernel-side code never imports it.
 */
export type { OopsReport } from '../kernel/oops.ts';
export { Machine, MachineError, type MachineFault, type MachineOptions } from './machine.ts';
export {
  type CpuCounters,
  type Finding,
  MachineView,
  type QueueKind,
  type QueueView,
  stateFlags,
  type TaskletView,
  type WaiterView,
} from './view.ts';
