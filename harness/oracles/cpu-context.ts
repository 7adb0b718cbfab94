/**
 * What the oracles need to know about the CPU they run on, read there (CPU side only: it calls
 * the kernel API): the context a callback runs in, and how often a CPU went offline (the
 * locality oracle's hotplug exception). Stress and fuzz read them alike, in this order.
 */
import {
  HI_SOFTIRQ,
  HZ,
  in_hardirq,
  in_interrupt,
  in_serving_softirq,
  jiffies,
  kstat_softirqs_cpu,
  TASKLET_SOFTIRQ,
} from 'tasklet-rt';
import { attach_tracepoint } from '../../kernel/trace.ts';
import { C_OFFLINE_COUNT, C_SOFTIRQ_INVOCATIONS } from '../../shm/layout.ts';
import { shm } from '../../shm/memory.ts';
import { bound_jiffies, type RunContext } from './run-checks.ts';
import { F_OWNER, tw } from './shadow.ts';

/** How often `cpu` went offline, counted by the runtime as the CPU dies (0 for no CPU). */
export const offlineCount = (cpu: number): number =>
  cpu < 0 ? 0 : Atomics.load(shm.mem, shm.layout.cpu(cpu) + C_OFFLINE_COUNT);

/** The vector this CPU serves now, from the softirq_entry tracepoint (install_vector_probe). */
let servedVector = -1;

/** Once per CPU (cpu_init): follows softirq_entry/softirq_exit so a run knows its vector. */
export function install_vector_probe(): void {
  attach_tracepoint('softirq_entry', (vec) => {
    servedVector = vec;
  });
  attach_tracepoint('softirq_exit', () => {
    servedVector = -1;
  });
}

/** This CPU's softirq invocations so far (a counter the runtime bumps at handle_softirqs entry). */
export const invocationCount = (cpu: number): number =>
  Atomics.load(shm.mem, shm.layout.cpu(cpu) + C_SOFTIRQ_INVOCATIONS);

/** jiffies at a callback's exit (on_run_end's argument for check 13). */
export const exit_jiffies = (): number => jiffies();

/** The context of tasklet i's callback, running now on `cpu`, for on_run_start. */
export function run_context(sh: Int32Array, i: number, cpu: number): RunContext {
  return {
    cpu,
    servingSoftirq: in_serving_softirq(),
    inInterrupt: in_interrupt(),
    inHardirq: in_hardirq(),
    passCount: kstat_softirqs_cpu(HI_SOFTIRQ, cpu) + kstat_softirqs_cpu(TASKLET_SOFTIRQ, cpu),
    ownerOfflineCount: offlineCount(Atomics.load(sh, tw(i, F_OWNER)) - 1),
    invocation: invocationCount(cpu),
    vector: servedVector,
    jiffies: jiffies(),
    boundJiffies: bound_jiffies(HZ()),
  };
}
