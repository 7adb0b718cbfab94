/**
 * W3 at the start of a run, a runtime bug the controlled fuzz found (seed 3): process_one_work
 * cleared PENDING before it counted the run as started, so a flush_work on another CPU that read
 * between the two saw the work neither pending nor started and waited for no run at all. The
 * recorded schedule of that finding replays onto that window; the run is now counted first.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replay } from '../harness/fuzz/replay.ts';
import { parseRepro } from '../harness/fuzz/repro.ts';

const repro = parseRepro(
  readFileSync(new URL('./fixtures/flush-work-early-run-start.json', import.meta.url), 'utf8'),
);

describe('flush_work while the run it waits for starts on another CPU', () => {
  it('the schedule that found flush_work returning early no longer does', async () => {
    expect(repro.violation.oracle).toBe('work-flush');
    const replayed = await replay(repro, 2);
    expect(replayed.first?.message ?? null).toBeNull();
    expect(replayed.reproduced).toBe(0);
  }, 60_000);
});
