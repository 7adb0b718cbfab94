/** What a stress run reports: its verdict, what it found, per-CPU totals, and its schedule. */

import type { ControlledOptions, ControlStats } from '../../control/driver.ts';
import type { OopsReport } from '../../machine/index.ts';
import type { Violation } from '../oracles/guarantees.ts';
import type { RecentEvent } from '../oracles/shadow.ts';
import type { TraceSummary } from '../trace/summary.ts';
import type { StressCoverage } from './coverage.ts';
import type { StressOptions } from './options.ts';

/** The counters the stats line and the report show, per CPU. */
export interface CpuTotals {
  runs: number;
  schedules: number;
  coalesced: number;
  requeues: number;
  disables: number;
  kills: number;
}

export interface StatsSample {
  elapsedMs: number;
  perCpu: CpuTotals[];
  online: number[];
  violations: number;
}

export interface ViolationReport extends Violation {
  name: string;
  events: RecentEvent[];
  atMs: number;
  /** Machine time of the report, when a CPU made it. */
  machineMs?: number;
  /** The last trace events of the CPUs involved up to the report (ftrace lines), when tracing was on. */
  trace?: string[];
}

/** What a controlled stress run did, and hashes to compare two runs by. */
export interface StressSchedule extends ControlStats {
  options: ControlledOptions;
  decisionsPerSecond: number;
  /** Of every event left in the trace rings. */
  traceHash: string;
  /** Of the decision log. */
  scheduleHash: string;
}

export type StressStatus = 'clean' | 'violation' | 'fault' | 'interrupted';

export interface StressResult {
  status: StressStatus;
  seed: number;
  options: StressOptions;
  elapsedMs: number;
  epochs: number;
  hotplugOps: number;
  violations: ViolationReport[];
  faults: string[];
  oopses: OopsReport[];
  totals: CpuTotals[];
  bootMs: number;
  schedule: StressSchedule | null;
  /** The trace files written (traceFiles), and how much of the run they hold. */
  trace: TraceSummary | null;
  /** Entry points called and pairs of them seen in progress at once (null if the run never started). */
  coverage: StressCoverage | null;
  /** Hot-unplugs of a CPU that had tasklets queued or a callback running, and down right after up. */
  hotplugInFlight: number;
  hotplugBackToBack: number;
}

/** A violation outranks a fault, a fault an interruption. */
export function statusOf(violations: number, faults: number, interrupted: boolean): StressStatus {
  if (violations > 0) return 'violation';
  if (faults > 0) return 'fault';
  return interrupted ? 'interrupted' : 'clean';
}
