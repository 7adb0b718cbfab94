/** The numbers a stress run reports: per-CPU counters, and a controlled run's schedule summary. */
import type { Machine } from '../../machine/index.ts';
import type { MachineView } from '../../machine/view.ts';
import { shortHash } from '../schedule-report.ts';
import type { StressOptions } from './options.ts';
import type { CpuTotals, StressSchedule } from './result.ts';

export function cpuTotals(view: MachineView, cpus: number): CpuTotals[] {
  const totals: CpuTotals[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    const { runs, schedules, coalesced, requeues, disables, kills } = view.counters(cpu);
    totals.push({ runs, schedules, coalesced, requeues, disables, kills });
  }
  return totals;
}

/** Controlled runs only: decisions, their rate over the load's wall time, and the two hashes. */
export function scheduleSummary(
  machine: Machine,
  options: StressOptions,
  loadMs: number,
): StressSchedule | null {
  const control = machine.control;
  if (control === null || options.controlled === undefined) return null;
  const stats = control.stats();
  return {
    ...stats,
    options: options.controlled,
    decisionsPerSecond: stats.steps / Math.max(loadMs / 1000, 1e-3),
    traceHash: shortHash(machine.traceRecords()),
    scheduleHash: shortHash(control.log()),
  };
}
