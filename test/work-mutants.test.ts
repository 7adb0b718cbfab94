/**
 * Each BH work mutant (harness/work-mutants.ts) breaks the guarantee it claims, and the scenario
 * that passes on a correct machine (test/workqueue.test.ts) shows it.
 */
import { describe, expect, it } from 'vitest';
import { injectMutant } from '../harness/inject.ts';
import { WORK_MUTANT_NAMES, WORK_MUTANTS } from '../harness/work-mutants.ts';
import { boot } from './helpers.ts';
import {
  flushWakeReports,
  w1Reentry,
  w2CancelSync,
  w3FlushQueued,
  w4Disabled,
  worksModule,
} from './work-scenarios.ts';

const machine = (mutant: string) => boot({ modules: [worksModule], ...injectMutant(mutant) });

describe('BH work mutants are caught', () => {
  it('every work mutant names the W guarantees it breaks', () => {
    for (const name of WORK_MUTANT_NAMES) expect(WORK_MUTANTS[name].breaks.length).toBeGreaterThan(0);
  });

  it('work-reentrant: the second run goes to the other CPU and overlaps the first (W1)', async () => {
    const seen = await w1Reentry(await machine('work-reentrant'));
    expect(seen.overlaps > 0 || seen.cpus.includes(1)).toBe(true);
  });

  it('work-cancel-no-wait: cancel_work_sync returns while it runs (W2)', async () => {
    const { peek, ranAfter } = await w2CancelSync(await machine('work-cancel-no-wait'));
    expect(peek.inside > 0 || ranAfter).toBe(true);
  });

  it('work-flush-early: flush_work returns after the run in progress, before the queued one (W3)', async () => {
    const { queued, peek } = await w3FlushQueued(await machine('work-flush-early'));
    expect(queued).toBe(true);
    expect(peek.runs).toBeLessThan(2);
  });

  it('work-lost-wakeup: a flush asleep through the run is never woken, and says it would sleep forever (W3)', async () => {
    const reports = await flushWakeReports(await machine('work-lost-wakeup'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      /^INFO: task flushPeek:\d+ would sleep forever in flush_work\(\S+\): the run it waits for returned with no wake-up \(a lost wake-up\)$/,
    );
  });

  it('work-queue-while-disabled: queueing a disabled work succeeds and it runs (W4)', async () => {
    const seen = await w4Disabled(await machine('work-queue-while-disabled'));
    expect(seen).not.toEqual({ results: [true, true, false, false, false], runs: 0 });
  });
});
