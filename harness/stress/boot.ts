/** Boots the machine a stress run drives: the workload module, the mutant, tracing, and where reports go. */
import { fileURLToPath } from 'node:url';
import { Machine } from '../../machine/index.ts';
import { injectMutant } from '../inject.ts';
import { isKernelReport, reportViolation, SCHED_NOT_SET } from './kernel-reports.ts';
import type { StressOptions } from './options.ts';
import type { ViolationReport } from './result.ts';
import { S_G12_WARNED } from './shadow.ts';
import type { Verdicts } from './verdicts.ts';

const workloadModule = fileURLToPath(new URL('./workload.ts', import.meta.url));

/**
 * Kernel reports: each one fails the run (with the CPU's recent trace), except the "tasklet
 * SCHED state not set" warnings the workload provoked (it counts them on the CPU, before the
 * line leaves it, in S_G12_WARNED).
 */
export class KernelReports {
  sh: Int32Array | null = null;
  machine: Machine | null = null;
  private provokedSeen = 0;
  constructor(
    private readonly verdicts: Verdicts,
    private readonly judging: boolean,
  ) {}

  printk(cpu: number, level: string, text: string): void {
    if (!this.judging || !isKernelReport(level, text)) return;
    if (
      text.includes(SCHED_NOT_SET) &&
      this.sh !== null &&
      Atomics.load(this.sh, S_G12_WARNED) > this.provokedSeen
    ) {
      this.provokedSeen++;
      return;
    }
    const v = reportViolation(cpu, level, text);
    const body = text.split('\n').slice(0, 12);
    this.verdicts.violation({
      ...v,
      message: body.length > 1 ? `${v.message}\n${body.map((l) => `    | ${l}`).join('\n')}` : v.message,
      machineMs: this.machine?.now(),
    });
  }
}

export function bootStressMachine(
  options: StressOptions,
  traceCapacity: number,
  verdicts: Verdicts,
  reports?: KernelReports,
): Promise<Machine> {
  return Machine.boot({
    cpus: options.cpus,
    maxTasklets: Math.max(4096, options.tasklets + 64),
    modules: [workloadModule],
    controlled: options.controlled,
    ...injectMutant(options.inject),
    trace: traceCapacity > 0 ? { capacity: traceCapacity } : undefined,
    onPrintk: (cpu, level, text) => reports?.printk(cpu, level, text),
    onReport: (_cpu, key, value) => {
      if (key === 'violation') verdicts.violation(value as ViolationReport);
    },
    // --oops=continue: counted in the report; the run still ends as a fault.
    onOops: (oops) => verdicts.oops(oops, options.oopsContinue === true),
    onFault: (fault) => verdicts.fault(fault.message),
  });
}
