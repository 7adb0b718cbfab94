/**
 * What a written trace holds: the files, and for each CPU how many events its ring kept out of
 * how many it recorded, and from when. A ring overwrites its oldest events (ftrace's overwrite
 * mode), so a long run's files hold only its end; the report says so instead of leaving a
 * reader to think the file is the whole run.
 */
import type { TraceRecord } from '../../shm/trace-ring.ts';

export interface TraceFileWritten {
  path: string;
  format: 'ftrace text' | 'Chrome trace JSON';
}

export interface CpuTraceSpan {
  cpu: number;
  /** Events recorded; those past `kept` were overwritten. */
  written: number;
  kept: number;
  /** Machine time (ms) of the oldest and newest kept event; null when none. */
  firstMs: number | null;
  lastMs: number | null;
}

export interface TraceSummary {
  files: TraceFileWritten[];
  /** Events each CPU's ring keeps. */
  capacity: number;
  cpus: CpuTraceSpan[];
}

export function traceSpans(records: readonly TraceRecord[], written: readonly number[]): CpuTraceSpan[] {
  const spans: CpuTraceSpan[] = written.map((n, cpu) => ({
    cpu,
    written: n,
    kept: 0,
    firstMs: null,
    lastMs: null,
  }));
  for (const r of records) {
    const span = spans[r.cpu];
    span.kept++;
    span.firstMs ??= r.time;
    span.lastMs = r.time;
  }
  return spans;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** One line, or two when the rings overwrote events, for a command's report. */
export function describeTrace(summary: TraceSummary): string[] {
  const kept = summary.cpus.reduce((sum, c) => sum + c.kept, 0);
  const written = summary.cpus.reduce((sum, c) => sum + c.written, 0);
  const firsts = summary.cpus.flatMap((c) => (c.firstMs === null ? [] : [c.firstMs]));
  const lasts = summary.cpus.flatMap((c) => (c.lastMs === null ? [] : [c.lastMs]));
  const files = summary.files.map((f) => `${f.path} (${f.format})`).join(' and ');
  const span =
    firsts.length === 0 ? '' : `, ${seconds(Math.min(...firsts))} to ${seconds(Math.max(...lasts))}`;
  const lines = [`trace: wrote ${files}: ${kept} events${span}`];
  const cut = summary.cpus.filter((c) => c.written > c.kept);
  if (cut.length === 0) {
    lines[0] += ', every event recorded';
    return lines;
  }
  const from = Math.max(...cut.map((c) => c.firstMs ?? 0));
  lines.push(
    `trace: cut: the rings keep ${summary.capacity} events per CPU and overwrote the oldest ${written - kept} of ${written}; all CPUs are covered from ${seconds(from)} on (--trace-buffer N keeps more)`,
  );
  return lines;
}
