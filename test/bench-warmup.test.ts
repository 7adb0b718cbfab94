/**
 * The bench's settling warm-up (bench/sampling.ts): it waits while a workload's rate still
 * climbs, stops soon once it is flat, and never past its bound. The counters here are functions
 * of elapsed time, so a busy host changes only how long each slice lasts, not what it sees.
 */
import { describe, expect, it } from 'vitest';
import { warmUp } from '../bench/sampling.ts';

/** A run counter whose rate (runs per ms) at `t` ms after the start is `rate(t)`, integrated. */
function counter(rate: (t: number) => number): () => { runs: number; requeues: number } {
  const start = performance.now();
  let runs = 0;
  let last = 0;
  return () => {
    const t = performance.now() - start;
    for (let s = last; s < t; s += 1) runs += rate(s);
    last = Math.max(last, Math.ceil(t));
    return { runs: Math.floor(runs), requeues: 0 };
  };
}

async function timed(body: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await body();
  return performance.now() - start;
}

describe('bench warm-up', () => {
  it('waits while the rate climbs, then stops', async () => {
    const climbsFor = 1200;
    const read = counter((t) => 100 * (1 + (4 * Math.min(t, climbsFor)) / climbsFor));
    const ms = await timed(() => warmUp(1, { warmupMs: 0, settleMaxMs: 10_000 }, read));
    expect(ms).toBeGreaterThanOrEqual(climbsFor);
    expect(ms).toBeLessThan(10_000);
  });

  it('stops within a few slices at a flat rate', async () => {
    const read = counter(() => 100);
    const ms = await timed(() => warmUp(1, { warmupMs: 0, settleMaxMs: 10_000 }, read));
    expect(ms).toBeLessThan(5_000);
  });

  it('gives up at its bound on a rate that never stops climbing, and settles nothing at 0', async () => {
    const read = counter((t) => 2 ** (t / 100));
    const bounded = await timed(() => warmUp(1, { warmupMs: 0, settleMaxMs: 600 }, read));
    expect(bounded).toBeGreaterThanOrEqual(600);
    expect(bounded).toBeLessThan(5_000);
    const off = await timed(() => warmUp(1, { warmupMs: 0, settleMaxMs: 0 }, read));
    expect(off).toBeLessThan(200);
  });
});
