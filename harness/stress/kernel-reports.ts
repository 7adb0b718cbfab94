/**
 * What counts as a kernel report (docs/semantics.md: every one fails a stress or fuzz run unless
 * the workload provoked it): a printk at warning level or worse (the WARN family's report starts
 * with the cut-here line, pr_err), or any line with `BUG:` or `WARNING:` in it.
 */
import type { OracleName, Violation } from '../oracles/guarantees.ts';
import { violation } from '../oracles/guarantees.ts';

const REPORT_LEVELS = new Set(['emerg', 'alert', 'crit', 'err', 'warning']);

/** The warning tasklet_action gives for a queued tasklet without SCHED (G12). */
export const SCHED_NOT_SET = 'tasklet SCHED state not set';

/** The idle loop's report of softirq work nobody will run before the next interrupt (G13's hand-off). */
const IDLE_SOFTIRQ_PENDING = 'NOHZ tick-stop error';

/** The idle loop's report of queued tasklets whose softirq nobody raised (G4: they may never run). */
const IDLE_TASKLETS_STRANDED = 'not pending: no pass will take them';

/**
 * A wait on a tasklet's state word whose wake-up never came (kernel/wait.ts): the task would
 * sleep forever. A SCHED wait is tasklet_kill's; a RUN wait, tasklet_unlock_wait's (tasklet_disable,
 * tasklet_kill).
 */
const SCHED_WAIT_LOST = 'its SCHED bit cleared with no wake_up_var';
const RUN_WAIT_LOST = 'its RUN bit cleared with no wake_up_var';

/** A kernel report that is a guarantee's finding: the text that names it, its oracle, and why. */
export interface ReportFinding {
  readonly text: string;
  readonly oracle: OracleName;
  readonly why: (cpu: number) => string;
}

const REPORT_FINDINGS: readonly ReportFinding[] = [
  {
    text: SCHED_NOT_SET,
    oracle: 'structure',
    why: () => 'a queued tasklet was found without SCHED, and the workload queued none so',
  },
  {
    text: IDLE_SOFTIRQ_PENDING,
    oracle: 'pass-bounds',
    why: (cpu) => `CPU${cpu} went idle with softirq work left pending, not handed to ksoftirqd`,
  },
  {
    text: IDLE_TASKLETS_STRANDED,
    oracle: 'at-least-once',
    why: () => 'a raise was lost, and the tasklets run only if another one comes',
  },
  {
    text: SCHED_WAIT_LOST,
    oracle: 'kill',
    why: (cpu) => `a tasklet_kill on CPU${cpu} waiting for SCHED would never return`,
  },
  {
    text: RUN_WAIT_LOST,
    oracle: 'disable-waits',
    why: (cpu) => `a wait on CPU${cpu} for the callback to finish would never return`,
  },
];

/** The guarantee a kernel report's text stands for, if it stands for one. */
export function reportFinding(text: string): ReportFinding | undefined {
  return REPORT_FINDINGS.find((finding) => text.includes(finding.text));
}

export function isKernelReport(level: string, text: string): boolean {
  return REPORT_LEVELS.has(level) || /\bBUG:|WARNING:|-\[ cut here \]-/.test(text);
}

/** The report's headline: the first line that says what happened (not the cut-here marker). */
export function reportHeadline(text: string): string {
  // Not the cut-here marker nor lockdep's rules of = and -: the line that names the report.
  const lines = text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('[ cut here ]') && !/^\s*[=-]+\s*$/.test(l));
  return lines[0] ?? text;
}

/** A report nobody provoked, as a finding of the kernel-report oracle or of the guarantee it names. */
export function reportViolation(cpu: number, level: string, text: string): Violation {
  const headline = reportHeadline(text);
  const finding = reportFinding(text);
  if (finding !== undefined)
    return violation(
      finding.oracle,
      -1,
      [cpu],
      `kernel warning on CPU${cpu}: "${headline}": ${finding.why(cpu)}`,
    );
  return violation('kernel-report', -1, [cpu], `kernel ${level} on CPU${cpu}: ${headline}`);
}
