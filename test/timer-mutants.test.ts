/**
 * Each timer mutant (harness/timer-mutants.ts) breaks the guarantee it claims, and the scenario
 * that passes on a correct machine (test/timers.test.ts) shows it.
 */
import { describe, expect, it } from 'vitest';
import { injectMutant } from '../harness/inject.ts';
import { TIMER_MUTANT_NAMES, TIMER_MUTANTS } from '../harness/timer-mutants.ts';
import { boot } from './helpers.ts';
import {
  T6_RETURNS,
  t1Overlaps,
  t2Early,
  t3AfterDelSync,
  t4Runs,
  t5LeftOnDeadCpu,
  t6Returns,
  timersModule,
} from './timer-scenarios.ts';

const machine = (mutant: string, cpus = 2) =>
  boot({ cpus, modules: [timersModule], ...injectMutant(mutant) });

describe('timer mutants are caught', () => {
  it('every timer mutant names the T guarantees it breaks', () => {
    for (const name of TIMER_MUTANT_NAMES) expect(TIMER_MUTANTS[name].breaks.length).toBeGreaterThan(0);
  });

  it('timer-migrate-running: the callback overlaps itself (T1)', async () => {
    expect(await t1Overlaps(await machine('timer-migrate-running'))).toBeGreaterThan(0);
  });

  it('timer-early: callbacks run before expires (T2)', async () => {
    expect(await t2Early(await machine('timer-early'))).toBeGreaterThan(0);
  });

  it('timer-del-sync-no-wait: del_timer_sync returns while the callback runs (T3)', async () => {
    const seen = await t3AfterDelSync(await machine('timer-del-sync-no-wait'));
    expect(seen.inside + seen.ranAfter).toBeGreaterThan(0);
  });

  it('timer-detach-after-run: a re-arm from the callback is lost (T4)', async () => {
    expect(await t4Runs(await machine('timer-detach-after-run'))).toBeLessThan(6);
  });

  it('timer-pending-lost: the calls that find the timer pending return false (T6)', async () => {
    const seen = await t6Returns(await machine('timer-pending-lost'));
    // mod_timer finding it pending (the same-expiry shortcut aside, which detaches nothing).
    expect(seen.slice(0, 2)).toEqual([false, false]);
    expect(seen).not.toEqual(T6_RETURNS);
  });

  it('timer-no-takeover: the dead CPU keeps its timers (T5)', async () => {
    expect(await t5LeftOnDeadCpu(await machine('timer-no-takeover', 3))).toBe(true);
  });
});
