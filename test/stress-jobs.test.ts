/**
 * `stress --controlled --jobs N`: N controlled machines side by side, job j with seed S+j. Each
 * job is the run `--seed S+j` alone (same trace hash); the first failure stops the others and
 * its result, with its seed, is the run's.
 */
import { describe, expect, it } from 'vitest';
import { runStressJobs } from '../harness/stress/jobs.ts';
import { DEFAULT_MIX } from '../harness/stress/mix.ts';
import { runStress, type StressOptions } from '../harness/stress/run.ts';

const options = (seed: number, inject?: string): StressOptions => ({
  cpus: 2,
  tasklets: 48,
  durationMs: 60_000,
  seed,
  mix: DEFAULT_MIX,
  hotplugMs: 0,
  oracles: true,
  inject,
  controlled: { strategy: 'pct', seed },
  stepLimit: 40_000,
});

describe('stress --controlled --jobs', () => {
  it('runs job j as the run with seed S+j alone, and adds the clean jobs up', async () => {
    const [{ result, jobs }, alone] = await Promise.all([
      runStressJobs(options(42), 2),
      runStress(options(43)),
    ]);
    expect(result.status).toBe('clean');
    expect(jobs.map((j) => [j.seed, j.status])).toEqual([
      [42, 'clean'],
      [43, 'clean'],
    ]);
    expect(jobs[1].traceHash).toBe(alone.schedule?.traceHash);
    expect(result.epochs).toBe(jobs.length * alone.epochs);
    const runs = (r: typeof result): number => r.totals.reduce((n, t) => n + t.runs, 0);
    expect(runs(result)).toBeGreaterThan(runs(alone));
  });

  it('stops at the first failure and reports that job, with its seed', async () => {
    const { result, jobs } = await runStressJobs(options(1, 'no-count-check'), 2);
    expect(result.status).toBe('violation');
    const failed = jobs.find((j) => j.seed === result.seed);
    expect(failed?.status).toBe('violation');
    expect(result.violations[0].oracle).toBe('disabled');
  });
});
