/** Writes a machine's trace rings as ftrace text and/or Chrome trace JSON. */
import { writeFileSync } from 'node:fs';
import type { Machine } from '../../machine/machine.ts';
import { ftraceLine, ftraceText } from './ftrace.ts';
import { TraceNames } from './names.ts';
import { chromeTrace } from './perfetto.ts';
import { type TraceFileWritten, type TraceSummary, traceSpans } from './summary.ts';

export interface TraceFiles {
  ftrace?: string;
  trace?: string;
}

/** Events kept per CPU when a command records a trace. */
export const DEFAULT_TRACE_CAPACITY = 1 << 16;

/** Writes the files asked for; null when none was. */
export function writeTraceFiles(
  machine: Machine,
  files: TraceFiles,
  taskletNames?: ReadonlyMap<number, string>,
): TraceSummary | null {
  if (files.ftrace === undefined && files.trace === undefined) return null;
  const records = machine.traceRecords();
  const written = machine.traceWritten();
  const names = new TraceNames(machine, taskletNames);
  const done: TraceFileWritten[] = [];
  if (files.ftrace !== undefined) {
    writeFileSync(files.ftrace, ftraceText(records, names, machine.nrCpus, written));
    done.push({ path: files.ftrace, format: 'ftrace text' });
  }
  const summary: TraceSummary = {
    files: done,
    capacity: machine.traceCapacity,
    cpus: traceSpans(records, written),
  };
  if (files.trace !== undefined) {
    const otherData = {
      'entries-in-buffer': records.length,
      'entries-written': written.reduce((sum, n) => sum + n, 0),
      'ring-capacity-per-cpu': summary.capacity,
    };
    writeFileSync(files.trace, JSON.stringify(chromeTrace(records, names, machine.nrCpus, otherData)));
    done.push({ path: files.trace, format: 'Chrome trace JSON' });
  }
  return summary;
}

/**
 * The last `count` events on the given CPUs (all CPUs if none) up to machine time `untilMs`
 * (a violation's moment), as ftrace lines.
 */
export function traceWindow(
  machine: Machine,
  cpus: number[],
  count: number,
  untilMs = Number.POSITIVE_INFINITY,
  taskletNames?: ReadonlyMap<number, string>,
): string[] {
  const names = new TraceNames(machine, taskletNames);
  const records = machine
    .traceRecords()
    .filter((r) => (cpus.length === 0 || cpus.includes(r.cpu)) && r.time <= untilMs);
  return records.slice(-count).map((r) => ftraceLine(r, names));
}
