/**
 * The fuzzer's timer and BH work ops: a short clean campaign runs them (their intervals show in
 * the coverage) and finds nothing; work and timer mutants are caught by the oracle of the
 * guarantee they break, under controlled schedules (deterministic: the same seed finds the same
 * program). Nothing here asserts on timing.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../harness/fuzz/campaign.ts';

const BH_KINDS = ['queue_work', 'queue_work_on', 'work_run', 'mod_timer', 'timer_run'];

describe('fuzz: timer and BH work ops', () => {
  it('runs them in a short clean campaign and finds nothing', async () => {
    const clean = await runCampaign({ cpus: 2, seed: 2024, runs: 60 });
    expect(clean.failure?.violation ?? null).toBeNull();
    expect(clean.status).toBe('clean');
    const seen = new Set([...clean.coverage.seen.keys()].flatMap((pair) => pair.split('|')));
    for (const kind of BH_KINDS) expect(seen).toContain(kind);
  }, 30_000);

  // [mutant, the guarantee its oracle reports (T n: 100 + n, W n: 200 + n), a campaign seed
  // whose first programs catch it]
  const cases: [string, number, number][] = [
    ['work-flush-early', 203, 4],
    ['work-queue-while-disabled', 204, 6],
    ['work-pending-late', 205, 34],
    ['timer-early', 102, 2],
    ['timer-pending-lost', 106, 2],
  ];
  it.each(cases)(
    'catches %s (guarantee %i)',
    async (inject, guarantee, seed) => {
      const found = await runCampaign({
        cpus: 2,
        seed,
        runs: 3,
        inject,
        controlled: { strategy: 'pct', seed: 1 },
        shrinkMs: 1,
        reproRuns: 1,
        huntMs: 0,
      });
      expect(found.status).toBe('failure');
      expect(found.failure!.violation.guarantee).toBe(guarantee);
    },
    30_000,
  );
});
