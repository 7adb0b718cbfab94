/**
 * `fuzz --jobs`: jobs take disjoint shards of the campaign, their results merge into one, and
 * the first failure stops the other jobs. Two small campaigns on two machines each.
 */
import { describe, expect, it } from 'vitest';
import { jobShard, runJobs } from '../harness/fuzz/jobs.ts';
import { shardRange } from '../harness/fuzz/shard.ts';

describe('fuzz --jobs', () => {
  it('splits the programs into disjoint shards and merges the runs and coverage', async () => {
    const result = await runJobs({ cpus: 2, seed: 7, runs: 6 }, 2);
    expect(result.status).toBe('clean');
    expect(result.jobs.map((j) => j.shard)).toEqual([
      { index: 1, count: 2 },
      { index: 2, count: 2 },
    ]);
    expect(result.jobs.map((j) => j.programs)).toEqual([3, 3]);
    expect(result.programs).toBe(6);
    expect(result.coverage.runs).toBe(result.runs);
    // Job j of N inside shard i/n is shard (i-1)*N+j of n*N: jobs of different shards never meet.
    const a = shardRange(jobShard({ index: 1, count: 2 }, 2, 1), 100);
    const b = shardRange(jobShard({ index: 2, count: 2 }, 2, 0), 100);
    expect(a.end).toBeLessThanOrEqual(b.first);
  }, 60_000);

  it('stops the other jobs at the first failure and keeps the finding', async () => {
    // Seed 9: the first shard has a program early that the mutant fails (see fuzz.test.ts); the
    // second shard's job, told to stop, ends long before its 200 programs.
    const result = await runJobs(
      {
        cpus: 2,
        seed: 9,
        runs: 400,
        inject: 'no-count-check',
        shrinkMs: 1000,
        reproRuns: 2,
        huntMs: 0,
        controlledHuntMs: 0,
      },
      2,
    );
    expect(result.status).toBe('failure');
    expect(result.failure?.violation.oracle).toBe('disabled');
    // No job ran its whole shard: a finder stops at a good finding, the others are told to.
    expect(result.jobs.every((j) => j.programs < 200)).toBe(true);
    expect(result.jobs.every((j) => j.status === 'failure' || j.status === 'interrupted')).toBe(true);
  }, 60_000);
});
