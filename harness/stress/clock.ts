/**
 * A stress run's two clocks, both counted from the workload's start (after boot and setup):
 * the wall clock, for reports and the per-second samples, and the machine's, for epochs and
 * hotplug (virtual in controlled mode, so those never depend on the host's speed).
 */
import type { Machine } from '../../machine/index.ts';

export class RunClock {
  private started = performance.now();
  private machineStarted = 0;

  /** The workload starts now. */
  start(machine: Machine): void {
    this.started = performance.now();
    this.machineStarted = machine.now();
  }

  elapsed(): number {
    return performance.now() - this.started;
  }

  machineElapsed(machine: Machine): number {
    return machine.now() - this.machineStarted;
  }
}
