/**
 * What the oracles need to know about the CPU they run on, read there (CPU side only: it calls
 * the kernel API): the context a callback runs in, and how often a CPU went offline (the
 * locality oracle's hotplug exception). Stress and fuzz read them alike, in this order.
 */
import {
  HI_SOFTIRQ,
  in_hardirq,
  in_interrupt,
  in_serving_softirq,
  kstat_softirqs_cpu,
  TASKLET_SOFTIRQ,
} from 'tasklet-rt';
import { C_OFFLINE_COUNT } from '../../shm/layout.ts';
import { shm } from '../../shm/memory.ts';
import type { RunContext } from './run-checks.ts';
import { F_OWNER, tw } from './shadow.ts';

/** How often `cpu` went offline, counted by the runtime as the CPU dies (0 for no CPU). */
export const offlineCount = (cpu: number): number =>
  cpu < 0 ? 0 : Atomics.load(shm.mem, shm.layout.cpu(cpu) + C_OFFLINE_COUNT);

/** The context of tasklet i's callback, running now on `cpu`, for on_run_start. */
export function run_context(sh: Int32Array, i: number, cpu: number): RunContext {
  return {
    cpu,
    servingSoftirq: in_serving_softirq(),
    inInterrupt: in_interrupt(),
    inHardirq: in_hardirq(),
    passCount: kstat_softirqs_cpu(HI_SOFTIRQ, cpu) + kstat_softirqs_cpu(TASKLET_SOFTIRQ, cpu),
    ownerOfflineCount: offlineCount(Atomics.load(sh, tw(i, F_OWNER)) - 1),
  };
}
