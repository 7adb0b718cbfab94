/**
 * The report's tables as plain rows of strings, so the terminal, Markdown and HTML reports show
 * exactly the same figures.
 */
import type { BenchResults } from '../results.ts';
import { mib, micros, params, rate, spread } from './format.ts';

export interface TextTable {
  title: string;
  head: string[];
  rows: string[][];
  /** Lines shown under the table. */
  notes?: string[];
}

export interface TableOptions {
  /**
   * Where the throughput table shows what each workload ran: in a column (Markdown, HTML), or
   * once per workload under the table (the terminal, where the column would not fit 100 wide).
   */
  params: 'column' | 'notes';
}

/** The warm-up before each window, as the bench ran it (bench/window.ts). */
export function warmupText(s: BenchResults['settings']): string {
  const settle = s.settleMaxMs ? `, then until the rate settles (at most ${s.settleMaxMs / 1000} s)` : '';
  return `warm-up ${s.warmupMs} ms${settle}`;
}

/** What every report says of a --quick run, in place of the targets table. */
export function quickNotice(r: BenchResults): string | null {
  return r.settings.quick
    ? `Quick run (--quick): tiny sizes and short runs (${r.settings.durationMs} ms × ${r.settings.runs}). ` +
        'The figures are indicative only and are not graded against the targets.'
    : null;
}

/** Host load: what the run was measured under (a shared host's figures read differently). */
export function hostLoadNote(r: BenchResults): string {
  const avg = r.host.loadAverage;
  const host = avg
    ? `host load average ${avg.atStart.toFixed(2)} at start, ${avg.atEnd.toFixed(2)} at end`
    : '';
  return `${host}${host ? '; ' : ''}load beside the bench (--load): ${r.settings.load ?? 'none'}`;
}

export function reportTables(r: BenchResults, options: TableOptions = { params: 'column' }): TextTable[] {
  const runs = `median of ${r.settings.runs} (min–max)`;
  const inColumn = options.params === 'column';
  const ran = new Map(r.throughput.map((t) => [`${t.workload} · ${t.implementation}`, params(t.params)]));
  return [
    {
      title: `Throughput, dispatches per second (${runs}; per CPU: the median)`,
      head: [
        'workload',
        'impl',
        'CPUs',
        'total/s',
        'per CPU/s',
        'requeues/s',
        ...(inColumn ? ['params'] : []),
      ],
      rows: r.throughput.map((t) => [
        t.workload,
        t.implementation,
        String(t.cpus),
        spread(t.perSecond, rate),
        rate(t.perSecondPerCpu.median),
        t.requeuesPerSecond ? spread(t.requeuesPerSecond, rate) : '',
        ...(inColumn ? [params(t.params)] : []),
      ]),
      notes: inColumn ? [] : ['params:', ...[...ran].map(([what, p]) => `  ${what}: ${p}`)],
    },
    {
      title: `Latency, µs (p50: ${runs}; the other figures: median over runs)`,
      head: ['workload', 'target', 'CPUs', 'poll µs', 'samples', 'p50', 'p99', 'p99.9', 'max', 'hops/s'],
      rows: r.latency.map((l) => [
        l.workload,
        l.target,
        String(l.cpus),
        String(l.idlePollUs),
        `${l.samples}${l.lost > 0 ? ` (${l.lost} lost)` : ''}`,
        spread(l.p50, micros),
        micros(l.p99.median),
        micros(l.p999.median),
        micros(l.max.median),
        l.perSecond ? rate(l.perSecond.median) : '',
      ]),
    },
    {
      title: 'Machines: boot time and memory per CPU worker',
      head: ['CPUs', 'poll µs', 'boot', 'RSS growth / CPU', 'worker heap used', 'worker heap total'],
      rows: r.machines.map((m) => [
        String(m.cpus),
        String(m.idlePollUs),
        `${m.bootMs.toFixed(0)} ms`,
        mib(m.rssPerCpuBytes),
        mib(m.heapUsedPerCpuBytes),
        mib(m.heapTotalPerCpuBytes),
      ]),
    },
    {
      title: 'Bug-finding throughput: fuzz programs per second (boot and warm-up excluded)',
      head: ['mode', 'CPUs', 'programs/s', 'measured over'],
      rows: (r.fuzz ?? []).map((f) => [
        f.mode,
        String(f.cpus),
        f.programsPerSecond.toFixed(0),
        `${f.seconds.toFixed(1)} s`,
      ]),
    },
    {
      title: 'Boot from the build (dist/, a fresh process; median of the runs)',
      head: ['CPUs', 'boot', 'per CPU'],
      rows: (r.boot ?? []).map((b) => [
        String(b.cpus),
        `${b.ms.toFixed(0)} ms`,
        `${b.msPerCpu.toFixed(0)} ms`,
      ]),
    },
    {
      title: 'Targets',
      head: ['target', 'goal', 'measured', 'met'],
      rows: (r.settings.quick ? [] : r.targets).map((t) => [
        t.name,
        t.goal,
        t.measured,
        t.met ? 'yes' : 'NO',
      ]),
      notes: [hostLoadNote(r)],
    },
  ].filter((t) => t.rows.length > 0);
}
