/**
 * What the CPUs of a fuzz machine tell the controller while a program runs: violations the
 * oracles reported, oopses, and the last kernel warning (for the warning oracle's message).
 */
import type { OopsReport } from '../../machine/index.ts';
import { ORACLES } from '../oracles/guarantees.ts';
import { isKernelReport, reportFinding, reportHeadline, SCHED_NOT_SET } from '../stress/kernel-reports.ts';
import type { FuzzViolation } from './oracles.ts';

export class FuzzReports {
  violations: FuzzViolation[] = [];
  lastWarning = '';
  /** The program now running; a CPU's report of an earlier one (late on its way) is dropped. */
  generation = 0;
  /** Resolves the wait of a run that should stop early: a violation arrived. */
  private wake: () => void = () => {};

  /** A new program: nothing reported yet. */
  reset(generation = this.generation): void {
    this.generation = generation;
    this.violations = [];
    this.lastWarning = '';
  }

  violation(v: FuzzViolation & { generation?: number }): void {
    if (v.generation !== undefined && v.generation !== this.generation) return;
    this.violations.push(v);
    this.wake();
  }

  /** An oops is a finding too, but the run goes on to its end. */
  oops(oops: OopsReport): void {
    this.violations.push({
      oracle: 'oops',
      guarantee: null,
      tasklet: -1,
      cpus: [oops.cpu],
      message: `oops on CPU${oops.cpu} in ${oops.context} (${oops.culprit}): ${oops.message}`,
    });
  }

  /**
   * Every kernel report is a finding (a fuzz program provokes none on purpose): the SCHED-not-set
   * warning through the warning count at the program's end (G11), any other at once.
   */
  printk(level: string, text: string, cpu = -1): void {
    if (!isKernelReport(level, text)) return;
    this.lastWarning = reportHeadline(text);
    if (text.includes(SCHED_NOT_SET)) return;
    const finding = reportFinding(text);
    this.violation({
      oracle: finding?.oracle ?? 'kernel-report',
      guarantee: finding === undefined ? null : ORACLES[finding.oracle],
      tasklet: -1,
      cpus: cpu >= 0 ? [cpu] : [],
      message: `kernel ${level}${cpu >= 0 ? ` on CPU${cpu}` : ''}: ${reportHeadline(text)}`,
    });
  }

  /** Resolves at the next violation, or at once if one is in. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (this.violations.length > 0) resolve();
    });
  }
}
