/**
 * What the CPUs of a fuzz machine tell the controller while a program runs: violations the
 * oracles reported, oopses, and the last kernel warning (for the warning oracle's message).
 */
import type { OopsReport } from '../../machine/index.ts';
import type { FuzzViolation } from './oracles.ts';

export class FuzzReports {
  violations: FuzzViolation[] = [];
  lastWarning = '';
  /** Resolves the wait of a run that should stop early: a violation arrived. */
  private wake: () => void = () => {};

  /** A new program: nothing reported yet. */
  reset(): void {
    this.violations = [];
    this.lastWarning = '';
  }

  violation(v: FuzzViolation): void {
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

  printk(level: string, text: string): void {
    if (level === 'warning' || level === 'err') this.lastWarning = text.split('\n')[0];
  }

  /** Resolves at the next violation, or at once if one is in. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (this.violations.length > 0) resolve();
    });
  }
}
