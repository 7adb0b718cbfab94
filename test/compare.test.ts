/**
 * `tasklet-rt compare` (harness/compare/): the differences it reports are the real ones, with
 * numbers consistent with the driver's workload. Controlled runs, so the outcome is the seed's.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareReport, differences } from '../harness/compare/report.ts';
import { type CompareResult, runCompare } from '../harness/compare/run.ts';

const TRIALS = 3;

describe('compare: tasklet vs BH work item', () => {
  let result: CompareResult;
  const dir = mkdtempSync(join(tmpdir(), 'compare-'));

  it('runs both sides of the driver and writes the trace of each', async () => {
    result = await runCompare({
      cpus: 2,
      durationMs: 200,
      seed: 5,
      trials: TRIALS,
      controlled: { strategy: 'pct', seed: 5 },
      traceDir: dir,
    });
    const tasklet = readFileSync(join(dir, 'tasklet.ftrace.txt'), 'utf8');
    const work = readFileSync(join(dir, 'bh-work.ftrace.txt'), 'utf8');
    expect(tasklet).toMatch(/tasklet_entry: tasklet=compare_tasklet function=compare_tasklet_fn/);
    expect(tasklet).not.toContain('workqueue_execute_start');
    expect(work).toMatch(
      /workqueue_execute_start: work struct compare_work#\d+: function compare_work_fn|workqueue_execute_start: work struct \S+: function compare_work_fn/,
    );
    expect(existsSync(join(dir, 'tasklet.ftrace.txt'))).toBe(true);
  }, 60_000);

  it("disabled: every schedule made while the tasklet was disabled ran after the enable; none of the work item's", () => {
    const { tasklet, work } = result;
    expect(tasklet.disabledTrials).toBe(TRIALS);
    expect(tasklet.disabledRemembered).toBe(TRIALS);
    expect(work.disabledTrials).toBe(TRIALS);
    expect(work.disabledRemembered).toBe(0);
    // Each trial's probe was refused, on top of the steady load's refusals.
    expect(work.refusedWhileDisabled).toBeGreaterThanOrEqual(TRIALS);
    expect(work.refusedWhileDisabled).toBeLessThanOrEqual(work.schedWhileDisabled);
    const d = differences(result).find((x) => x.topic === 'disabled');
    expect(d?.tasklet).toContain(`${TRIALS}/${TRIALS} schedules made while disabled ran`);
    expect(d?.work).toMatch(
      new RegExp(
        `^0/${TRIALS} \\(queue_work refused ${work.refusedWhileDisabled} of ${work.schedWhileDisabled}`,
      ),
    );
  });

  it('teardown: tasklet_kill lets each pending run happen, cancel_work_sync takes each away', () => {
    const { tasklet, work } = result;
    expect(tasklet.teardownRuns).toBe(TRIALS);
    expect(work.teardownRuns).toBe(0);
    expect(work.teardownCancelled).toBe(TRIALS);
    const d = differences(result).find((x) => x.topic === 'teardown');
    expect(d?.tasklet).toContain(`${TRIALS}/${TRIALS} pending runs ran`);
    expect(d?.work).toContain(`0/${TRIALS} pending runs ran during the teardown, ${TRIALS} cancelled`);
  });

  it('counts and latency: runs never exceed schedules (coalescing), queue_work accepted at most every call', () => {
    for (const side of [result.tasklet, result.work]) {
      expect(side.runs).toBeGreaterThan(0);
      expect(side.runs).toBeLessThanOrEqual(side.schedules);
      expect(side.latency.samples).toBeGreaterThan(0);
      expect(side.latency.p50).toBeLessThanOrEqual(side.latency.p99);
    }
    expect(result.work.accepted).toBeLessThanOrEqual(result.work.schedules);
    // Every run of the work item consumed one accepted queueing or none was left behind.
    expect(result.work.runs + (result.work.teardownCancelled ?? 0)).toBeLessThanOrEqual(
      result.work.accepted ?? 0,
    );
    const text = compareReport(result);
    expect(text).toContain('differences:');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });
});
