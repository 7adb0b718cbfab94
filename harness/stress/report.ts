/** What a stress run prints and writes: the per-second stats line, the final report, JSON, JUnit. */

import { guaranteeLabel, ORACLE_NAMES, ORACLES } from '../oracles/guarantees.ts';
import { strategyLine } from '../schedule-report.ts';
import { STRESS_MUTANTS } from '../stress-mutants.ts';
import { wrapText } from '../text/layout.ts';
import { stressCommandLine } from './command-line.ts';
import { coverageTable } from './coverage.ts';
import type { StressHunt } from './hunt.ts';
import type { StressJob } from './jobs.ts';
import { OPS } from './mix.ts';
import type { CpuTotals, StatsSample, StressResult, StressSchedule, ViolationReport } from './result.ts';

const sum = (totals: CpuTotals[], key: keyof CpuTotals): number => totals.reduce((s, t) => s + t[key], 0);

export function compact(n: number): string {
  if (n >= 10_000_000) return `${(n / 1_000_000).toFixed(0)}M`;
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 10_000) return `${(n / 1000).toFixed(0)}k`;
  return String(n);
}

/** One line a second, in the spirit of locktorture's "Writes: Total: ... Max/Min: ... Fail: ...". */
export function statsLine(sample: StatsSample, cpus: number): string {
  const runs = sample.perCpu.map((t) => t.runs);
  const field = (label: string, key: keyof CpuTotals): string =>
    `${label}: ${compact(sum(sample.perCpu, key))}`;
  return [
    `[${(sample.elapsedMs / 1000).toFixed(0).padStart(4)}s]`,
    `Runs: ${compact(sum(sample.perCpu, 'runs'))} Max/Min: ${compact(Math.max(...runs))}/${compact(Math.min(...runs))}`,
    field('Sched', 'schedules'),
    field('Coalesced', 'coalesced'),
    field('Requeues', 'requeues'),
    field('Disables', 'disables'),
    field('Kills', 'kills'),
    `Online: ${sample.online.length}/${cpus}`,
    `Violations: ${sample.violations}`,
  ].join('  ');
}

/**
 * `controlled`: the run's clock is machine time (its --duration and its repro's "at"), so the
 * report gives the machine time a CPU stamped it with, not the wall time it reached us.
 */
export function describeViolation(v: ViolationReport, controlled = false): string {
  const at =
    controlled && v.machineMs !== undefined
      ? `${(v.machineMs / 1000).toFixed(3)}s of machine time`
      : `${(v.atMs / 1000).toFixed(2)}s`;
  const who = v.tasklet >= 0 ? `tasklet ${v.name}` : 'machine';
  const cpus = v.cpus.length > 0 ? ` [CPU ${v.cpus.join(', ')}]` : '';
  const lines = [
    `${v.guarantee === 0 ? 'KERNEL REPORT' : `VIOLATION of guarantee ${v.guarantee < 100 ? v.guarantee : guaranteeLabel(v.guarantee)}`} (${v.oracle}) at ${at}: ${who}${cpus}: ${v.message}`,
  ];
  if (v.events.length > 0) {
    lines.push(`  recent events of ${v.name} (oldest first):`);
    for (const e of v.events) lines.push(`    ${e.kind.padEnd(11)} CPU${e.cpu}  schedule#${e.schedSeq}`);
  }
  if (v.trace !== undefined && v.trace.length > 0) {
    lines.push(
      `  trace before the report (CPU ${v.cpus.length > 0 ? v.cpus.join(', ') : 'all'}):`,
      ...v.trace.map((l) => `  ${l}`),
    );
  }
  return lines.join('\n');
}

const COLUMNS = ['runs', 'schedules', 'coalesced', 'requeues', 'disables', 'kills'] as const;

function totalOf(totals: CpuTotals[]): CpuTotals {
  const total = {} as CpuTotals;
  for (const key of COLUMNS) total[key] = sum(totals, key);
  return total;
}

/** The per-CPU counter table (the kernel's own counters), with a total row. */
export function totalsTable(totals: CpuTotals[]): string[] {
  const row = (label: string, t: CpuTotals): string =>
    `  ${label.padEnd(3)} ${COLUMNS.map((key) => String(t[key]).padStart(11)).join('')}`;
  return [
    `  CPU ${COLUMNS.map((h) => h.padStart(11)).join('')}`,
    ...totals.map((t, cpu) => row(String(cpu), t)),
    row('all', totalOf(totals)),
  ];
}

/** A controlled run's strategy, decisions and hashes. */
export function scheduleLines(schedule: StressSchedule, cpus: number): string[] {
  return [
    `  ${strategyLine(schedule.options, cpus, schedule.steps)}`,
    `  schedule: ${schedule.steps} decisions (${compact(Math.round(schedule.decisionsPerSecond))}/s), ${schedule.switches} switches, ${schedule.preemptions} preemptions, ${schedule.virtualMs.toFixed(1)} ms of machine time`,
    `  trace hash ${schedule.traceHash}, schedule hash ${schedule.scheduleHash}${schedule.logOverflow ? ' (decision log overflowed: the hash covers its start)' : ''}`,
  ];
}

export function finalReport(result: StressResult): string {
  const { options, totals } = result;
  const mix = OPS.map((op) => `${op}=${options.mix[op]}`).join(',');
  const lines: string[] = [];
  lines.push(
    `tasklet-rt stress: ${options.cpus} CPUs, ${options.tasklets} tasklets, ${(result.elapsedMs / 1000).toFixed(1)}s, seed ${result.seed}`,
    ...wrapText(
      `mix ${mix}; hotplug ${options.hotplugMs > 0 ? `every ${options.hotplugMs} ms (${result.hotplugOps} ops)` : 'off'}; oracles ${options.oracles ? 'on' : 'OFF'}; mutant ${options.inject ?? 'none'}`,
    ),
    '',
    ...totalsTable(totals),
  );
  const total = totalOf(totals);
  const seconds = result.elapsedMs / 1000;
  lines.push(
    '',
    `  throughput: ${compact(Math.round(total.runs / seconds))} tasklet runs/s; ${result.epochs} drain checks; boot ${result.bootMs.toFixed(0)} ms`,
  );
  if (result.schedule !== null) lines.push(...scheduleLines(result.schedule, options.cpus));
  if (options.hotplugMs > 0) {
    lines.push(
      `  hotplug: ${result.hotplugOps} ops, ${result.hotplugInFlight} down with work in flight on the dying CPU, ${result.hotplugBackToBack} down right after up`,
    );
  }
  if (result.coverage !== null) {
    lines.push(
      '',
      '  interleaving coverage (entry points in progress at once on different CPUs):',
      coverageTable(result.coverage),
    );
  }
  if (options.oracles) {
    lines.push(
      ...wrapText(
        `oracles: ${ORACLE_NAMES.map((name) => `${ORACLES[name] > 0 ? `${guaranteeLabel(ORACLES[name])} ` : ''}${name}`).join(', ')}`,
      ),
    );
  }
  lines.push('');
  for (const fault of result.faults) lines.push(`FAULT: ${fault}`);
  if (result.oopses.length > 0) {
    lines.push(
      `oopses: ${result.oopses.length}; the first, on CPU${result.oopses[0].cpu} in ${result.oopses[0].context}:`,
      result.oopses[0].stack,
    );
  }
  if (result.violations.length > 0)
    lines.push(describeViolation(result.violations[0], result.schedule !== null));
  lines.push(`result: ${verdict(result)}`);
  return lines.join('\n');
}

export function verdict(result: StressResult): string {
  switch (result.status) {
    case 'clean':
      return result.options.oracles ? 'CLEAN - no violations' : 'done (oracles off: nothing was checked)';
    case 'violation':
      return `VIOLATION (${result.violations.length} reported; the first is shown)`;
    case 'fault':
      return 'FAULT - the machine failed (see above)';
    case 'interrupted':
      return 'INTERRUPTED - partial run, no violations so far';
  }
}

/** With --jobs: each job's seed, verdict and schedule, and how to replay one alone. */
export function jobsReport(jobs: StressJob[]): string[] {
  if (jobs.length <= 1) return [];
  const rate = jobs.reduce((n, j) => n + j.decisionsPerSecond, 0);
  return [
    `jobs: ${jobs.length} controlled machines side by side, ${(rate / 1e6).toFixed(2)} M decisions/s in total`,
    ...jobs.map(
      (j) =>
        `  job ${j.job}: seed ${j.seed}, ${j.status}, ${(j.decisions / 1e6).toFixed(2)} M decisions in ${(j.elapsedMs / 1000).toFixed(1)}s${j.traceHash === null ? '' : `, trace hash ${j.traceHash}`}`,
    ),
    '  (job j alone: the same command with --seed S+j and without --jobs)',
  ];
}

export function toJson(
  result: StressResult,
  hunt: StressHunt | null = null,
  jobs: StressJob[] | null = null,
): string {
  return `${JSON.stringify(
    {
      tool: 'tasklet-rt stress',
      status: result.status,
      seed: result.seed,
      options: result.options,
      mutant: result.options.inject
        ? { name: result.options.inject, ...STRESS_MUTANTS[result.options.inject] }
        : null,
      elapsedMs: Math.round(result.elapsedMs),
      bootMs: Math.round(result.bootMs),
      epochs: result.epochs,
      hotplugOps: result.hotplugOps,
      totals: result.totals,
      violations: result.violations,
      faults: result.faults,
      exactRepro:
        hunt === null
          ? null
          : {
              found: hunt.found,
              tries: hunt.tries,
              ms: Math.round(hunt.ms),
              exact: hunt.exact ?? false,
              oracle: hunt.violation?.oracle ?? null,
              sameOracle: hunt.found ? hunt.other !== true : null,
              command: hunt.options === undefined ? null : stressCommandLine(hunt.options),
              traceHash: hunt.traceHash ?? null,
            },
      jobs,
    },
    null,
    2,
  )}\n`;
}

const xml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One test case per oracle (failed if it fired), plus one for the machine itself (faults). */
export function toJunit(result: StressResult): string {
  const seconds = (result.elapsedMs / 1000).toFixed(3);
  const cases: string[] = [];
  for (const name of ORACLE_NAMES) {
    const v = result.violations.find((x) => x.oracle === name);
    const head = `    <testcase classname="tasklet-rt.stress" name="${guaranteeLabel(ORACLES[name])} ${name}" time="${seconds}">`;
    if (!result.options.oracles) cases.push(`${head}<skipped message="oracles off"/></testcase>`);
    else if (v)
      cases.push(
        `${head}\n      <failure message="${xml(v.message)}">${xml(describeViolation(v))}</failure>\n    </testcase>`,
      );
    else cases.push(`${head}</testcase>`);
  }
  const machineCase = `    <testcase classname="tasklet-rt.stress" name="machine runs without faults" time="${seconds}">`;
  cases.push(
    result.faults.length > 0
      ? `${machineCase}\n      <error message="${xml(result.faults[0])}">${xml(result.faults.join('\n'))}</error>\n    </testcase>`
      : `${machineCase}</testcase>`,
  );
  const failures = ORACLE_NAMES.filter((n) => result.violations.some((v) => v.oracle === n)).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tasklet-rt" tests="${cases.length}" failures="${failures}" errors="${result.faults.length > 0 ? 1 : 0}">`,
    `  <testsuite name="stress seed=${result.seed}" tests="${cases.length}" failures="${failures}" errors="${result.faults.length > 0 ? 1 : 0}" time="${seconds}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
