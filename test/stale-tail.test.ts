/**
 * A queue left with a stale tail (takeover-stale-tail: takeover_tasklets empties a dead CPU's
 * queue but leaves its tail) loses a tasklet only later, at the first schedule on that CPU after
 * its bring-up: in fuzz, in another program on the same machine, whose repro then never
 * reproduces. The drain's queue check (G11) reports it in the program that took the CPU down,
 * and that program's repro replays it exactly on a fresh machine every time.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../harness/fuzz/campaign.ts';
import { replay } from '../harness/fuzz/replay.ts';
import { buildRepro, parseRepro } from '../harness/fuzz/repro.ts';

describe('a stale queue tail', () => {
  it('is a G11 finding at the drain of the program that left it, and its repro replays exactly', async () => {
    const inject = 'takeover-stale-tail';
    const result = await runCampaign({
      cpus: 2,
      seed: 1,
      runs: 60,
      inject,
      controlled: { strategy: 'pct', seed: 1 },
      reproRuns: 2,
      shrinkMs: 3000,
      huntMs: 0,
    });
    expect(result.status).toBe('failure');
    const failure = result.failure!;
    expect(failure.violation.oracle).toBe('structure');
    expect(failure.violation.message).toMatch(
      /tasklet(_hi)?_vec is empty but its tail points at the next field of t\d+/,
    );
    const repro = parseRepro(JSON.stringify(buildRepro(failure, 1, 2, inject)));
    const replayed = await replay(repro, 3);
    expect(replayed).toMatchObject({ reproduced: 3, exact: 3 });
    expect(replayed.first!.message).toBe(failure.violation.message);
  }, 90_000);
});
