/**
 * State private to the CPU this thread emulates (the kernel's per-CPU variables and the
 * interrupt flag). The controller thread has `id === -1`: it is not a CPU.
 */
export const this_cpu = {
  /** smp_processor_id(); -1 on the controller thread. */
  id: -1,
  /** Word index of this CPU's block in shared memory. */
  base: 0,
  /** The local interrupt flag: true between local_irq_disable and local_irq_enable. */
  irqsOff: false,
  /** preempt_count (mirrored to shared memory for observers). */
  preempt: 0,
  /** TIF_NEED_RESCHED of the current task. */
  needResched: false,
};

export class NotOnCpuError extends Error {
  constructor(call: string, alternative: string) {
    super(`${call}() needs a CPU context and this is the controller thread; ${alternative}`);
    this.name = 'NotOnCpuError';
  }
}

/** Throws a clear error when kernel API is called from the controller thread. */
export function requireCpu(call: string): void {
  if (this_cpu.id < 0) {
    throw new NotOnCpuError(
      call,
      'call it from a module running on a CPU (an irq handler, tasklet, task or init), or use the Machine API (machine.raiseIrq, machine.readProc)',
    );
  }
}
