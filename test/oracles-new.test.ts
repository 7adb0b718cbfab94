/**
 * The pieces issue 13 added around the oracles: what counts as a kernel report, the stress
 * coverage record, shrinking that never trades a program for one that reproduces less often,
 * and a controlled stress run whose --duration is machine time (the same run twice, with hotplug).
 */
import { describe, expect, it } from 'vitest';
import { ShrinkState } from '../harness/fuzz/shrink-state.ts';
import {
  COVERAGE_KINDS,
  COVERAGE_WORDS,
  cov_begin,
  cov_end,
  coverageTable,
  kindIndex,
  readCoverage,
  Slot,
} from '../harness/stress/coverage.ts';
import { isKernelReport, reportViolation, SCHED_NOT_SET } from '../harness/stress/kernel-reports.ts';
import { DEFAULT_MIX } from '../harness/stress/mix.ts';
import { runStress } from '../harness/stress/run.ts';

describe('kernel reports', () => {
  it('WARN reports, BUG lines and pr_err are reports; info and notice lines are not', () => {
    expect(isKernelReport('warning', '------------[ cut here ]------------\nsomething')).toBe(true);
    expect(isKernelReport('err', 'softirq: huh, entered softirq 6')).toBe(true);
    expect(isKernelReport('info', 'BUG: sleeping function called from invalid context')).toBe(true);
    expect(isKernelReport('notice', 'softirq: Attempt to kill tasklet from interrupt')).toBe(false);
    expect(isKernelReport('info', 'CPU1 is now offline')).toBe(false);
  });
  it('names the headline, not the cut-here marker; SCHED-not-set is a structure finding', () => {
    const v = reportViolation(
      1,
      'warning',
      '------------[ cut here ]------------\nWARNING: CPU: 1 PID: 3 at x',
    );
    expect(v.oracle).toBe('kernel-report');
    expect(v.message).toContain('WARNING: CPU: 1');
    expect(reportViolation(0, 'warning', `${SCHED_NOT_SET}: callback f`).oracle).toBe('structure');
  });
});

describe('stress coverage', () => {
  it('counts entry points and the pairs in progress at once on different CPUs', () => {
    const cov = new Int32Array(COVERAGE_WORDS);
    cov_begin(cov, 2, 0, Slot.Process, kindIndex('kill'));
    cov_begin(cov, 2, 1, Slot.Hardirq, kindIndex('schedule'));
    cov_end(cov, 1, Slot.Hardirq);
    cov_begin(cov, 2, 1, Slot.Softirq, kindIndex('run'));
    const c = readCoverage(cov);
    expect(c.counts.kill).toBe(1);
    expect(c.pairs['schedule|kill']).toBe(1);
    expect(c.pairs['run|kill']).toBe(1);
    expect(c.pairsSeen).toBe(2);
    expect(c.missingKinds).toHaveLength(COVERAGE_KINDS.length - 3);
    expect(coverageTable(c)).toContain(
      `2/${(COVERAGE_KINDS.length * (COVERAGE_KINDS.length + 1)) / 2} pairs`,
    );
  });
});

describe('shrinking under nondeterminism', () => {
  it('accepts a candidate only if it reproduces at least as often as the program it replaces', () => {
    const s = new ShrinkState(1000);
    s.measured(6, 12);
    expect(s.reproducesAsOften(5, 12)).toBe(false);
    expect(s.reproducesAsOften(6, 12)).toBe(true);
    s.accept({} as never, {} as never, 9 / 12);
    expect(s.reproducesAsOften(8, 12)).toBe(false);
  });
  it('does not shrink an original that never failed again when measured', () => {
    const s = new ShrinkState(1000);
    s.measured(0, 30);
    expect(s.rate).toBeNull();
    expect(s.reproducesAsOften(12, 12)).toBe(false);
  });
});

describe('controlled stress by machine time', () => {
  const run = () =>
    runStress({
      cpus: 2,
      tasklets: 64,
      durationMs: 400,
      seed: 42,
      mix: DEFAULT_MIX,
      hotplugMs: 100,
      oracles: true,
      controlled: { strategy: 'pct', seed: 42 },
    });
  it('the same --duration and seed give the same decisions and trace hash, hotplug included', async () => {
    const [a, b] = [await run(), await run()];
    expect(a.status).toBe('clean');
    expect(a.hotplugOps).toBeGreaterThan(0);
    expect(b.schedule!.steps).toBe(a.schedule!.steps);
    expect(b.schedule!.traceHash).toBe(a.schedule!.traceHash);
  }, 60_000);
});
