/**
 * What `tasklet-rt compare` prints: each observable side by side, and the differences a driver
 * conversion (tasklet → BH work item) meets, each with the numbers that show it.
 */
import { wrapText } from '../text/layout.ts';
import type { CompareResult, SideResult } from './run.ts';

export interface Difference {
  /** A short key: disabled, teardown, reentry, coalescing, latency. */
  topic: string;
  tasklet: string;
  work: string;
  /** What a driver converting from one to the other must know. */
  note: string;
}

const pct = (n: number, of: number): string => (of === 0 ? '-' : `${Math.round((100 * n) / of)}%`);
const us = (n: number): string => `${n} us`;

/** The differences the two runs show (only those whose numbers differ). */
export function differences(r: CompareResult): Difference[] {
  const { tasklet: t, work: w } = r;
  const found: Difference[] = [];
  if (t.disabledRemembered !== w.disabledRemembered)
    found.push({
      topic: 'disabled',
      tasklet: `${t.disabledRemembered}/${t.disabledTrials} schedules made while disabled ran after the enable`,
      work: `${w.disabledRemembered}/${w.disabledTrials} (queue_work refused ${w.refusedWhileDisabled} of ${w.schedWhileDisabled} while disabled)`,
      note: 'a disabled tasklet remembers its schedule; a disabled work item drops it: requeue after enable_work if the event must not be lost',
    });
  const tornDown = (s: SideResult): string =>
    `${s.teardownRuns}/${s.teardownTrials} pending runs ran during the teardown${s.teardownCancelled !== null ? `, ${s.teardownCancelled} cancelled` : ''}`;
  if (t.teardownRuns !== w.teardownRuns || w.teardownCancelled !== 0)
    found.push({
      topic: 'teardown',
      tasklet: `tasklet_kill: ${tornDown(t)}`,
      work: `cancel_work_sync: ${tornDown(w)}`,
      note: 'tasklet_kill waits for a pending run to happen; cancel_work_sync takes it away (returns true): do what the pending run would have done, if it matters',
    });
  const reentry = (s: SideResult): string =>
    `${s.reentryOnScheduler} on the scheduling CPU, ${s.reentryOnRunner} on the CPU running it`;
  if (
    Math.sign(t.reentryOnScheduler - t.reentryOnRunner) !==
    Math.sign(w.reentryOnScheduler - w.reentryOnRunner)
  )
    found.push({
      topic: 'reentry',
      tasklet: `next run after a schedule while running elsewhere: ${reentry(t)}`,
      work: reentry(w),
      note: 'a tasklet rescheduled from another CPU while it runs is queued there (and waits for the run lock); a work item goes to the pool that runs it (non-reentrancy)',
    });
  found.push({
    topic: 'coalescing',
    tasklet: `${t.runs} runs for ${t.schedules} schedules (${pct(t.runs, t.schedules)})`,
    work: `${w.runs} runs for ${w.schedules} queueings, ${w.accepted} accepted (${pct(w.runs, w.schedules)})`,
    note: 'both coalesce the schedules made while one is pending into one run, and both clear the pending bit as the run starts (a schedule during a run runs it again)',
  });
  found.push({
    topic: 'latency',
    tasklet: `schedule to run p50 ${us(t.latency.p50)}, p99 ${us(t.latency.p99)} (${t.latency.samples} runs)`,
    work: `p50 ${us(w.latency.p50)}, p99 ${us(w.latency.p99)} (${w.latency.samples} runs)`,
    note: "both run in the scheduling CPU's softirq (BH work first, in the same vector); a tasklet's latency includes the time it waited disabled, a dropped queueing has none",
  });
  return found;
}

function sideRows(s: SideResult): [string, string][] {
  return [
    ['schedules (tasklet_schedule / queue_work)', String(s.schedules)],
    ['  accepted (queue_work returned true)', s.accepted === null ? 'n/a' : String(s.accepted)],
    ['runs', String(s.runs)],
    ['runs on the CPU that scheduled last', `${s.runsOnSchedCpu} (${pct(s.runsOnSchedCpu, s.runs)})`],
    ['schedules while disabled', String(s.schedWhileDisabled)],
    ['  refused while disabled', s.refusedWhileDisabled === null ? 'n/a' : String(s.refusedWhileDisabled)],
    ['disabled trials: ran after the enable', `${s.disabledRemembered}/${s.disabledTrials}`],
    ['teardown trials: pending run ran', `${s.teardownRuns}/${s.teardownTrials}`],
    ['  teardown took it away', s.teardownCancelled === null ? 'n/a' : String(s.teardownCancelled)],
    ['scheduled while running elsewhere: next run there', String(s.reentryOnScheduler)],
    ['  ... next run on the CPU that ran it', String(s.reentryOnRunner)],
    ['schedule-to-run latency p50 / p99', `${us(s.latency.p50)} / ${us(s.latency.p99)}`],
  ];
}

export function compareReport(r: CompareResult): string {
  const t = sideRows(r.tasklet);
  const w = sideRows(r.work);
  const width = Math.max(...t.map(([k]) => k.length));
  const col = 14;
  const lines = [
    `${''.padEnd(width)}  ${'tasklet'.padStart(col)}  ${'BH work'.padStart(col)}`,
    ...t.map(([k, v], i) => `${k.padEnd(width)}  ${v.padStart(col)}  ${w[i][1].padStart(col)}`),
    '',
    'differences:',
  ];
  for (const d of differences(r)) {
    lines.push(
      `  ${d.topic}:`,
      ...wrapText(`tasklet: ${d.tasklet}`, '    '),
      ...wrapText(`BH work: ${d.work}`, '    '),
      ...wrapText(d.note, '    '),
    );
  }
  const traces = [r.tasklet.traceFile, r.work.traceFile].filter((f) => f !== null);
  if (traces.length > 0) lines.push('', `traces: ${traces.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
