/**
 * `fuzz --jobs N`: N independent campaigns side by side, each on its own machine in a pool
 * thread (piscina), over disjoint shards of program numbers (job j of N inside the campaign's
 * own --shard i/n is shard (i-1)*N+j of n*N). The first failure stops the other jobs; coverage
 * and findings are merged into one campaign result, with each job's programs per second.
 */

import { Piscina } from 'piscina';
import { sideBySide } from '../../control/plan.ts';
import { type CampaignOptions, type CampaignResult, runCampaign } from './campaign.ts';
import { Coverage } from './coverage.ts';
import { score } from './failure.ts';
import { type JobResult, type JobTask, progressWord, STOP_NONE, STOP_SIGNAL } from './job.ts';
import { type Shard, WHOLE } from './shard.ts';

export interface JobRate {
  job: number;
  shard: Shard;
  programs: number;
  runs: number;
  elapsedMs: number;
  status: CampaignResult['status'];
}

export interface JobsResult extends CampaignResult {
  jobs: JobRate[];
}

export interface JobsProgress {
  elapsedMs: number;
  /** Runs so far, per job. */
  runs: number[];
}

/** The pool thread's entry: the sources' bootstrap (tsx), or the build's job.js. */
function jobEntry(): string {
  return import.meta.url.endsWith('.ts')
    ? new URL('./job-entry.mjs', import.meta.url).href
    : new URL('./job.js', import.meta.url).href;
}

/** Shard j (0-based) of `jobs` inside `shard`. */
export function jobShard(shard: Shard, jobs: number, job: number): Shard {
  return { index: (shard.index - 1) * jobs + job + 1, count: shard.count * jobs };
}

const PROGRESS_MS = 1000;

export async function runJobs(
  options: CampaignOptions,
  jobs: number,
  onProgress?: (p: JobsProgress) => void,
): Promise<JobsResult> {
  const shard = options.shard ?? WHOLE;
  if (jobs <= 1) {
    const result = await runCampaign(options);
    const rate: JobRate = { job: 0, shard, ...pick(result) };
    return { ...result, jobs: [rate] };
  }
  const shared = new SharedArrayBuffer(4 * (1 + 2 * jobs));
  const words = new Int32Array(shared);
  const pool = new Piscina({ filename: jobEntry(), minThreads: jobs, maxThreads: jobs, idleTimeout: 1000 });
  const started = performance.now();
  const timer = setInterval(() => {
    if (Atomics.load(words, 0) === STOP_NONE && options.interrupted?.()) Atomics.store(words, 0, STOP_SIGNAL);
    onProgress?.({
      elapsedMs: performance.now() - started,
      runs: Array.from({ length: jobs }, (_, j) => Atomics.load(words, progressWord(j))),
    });
  }, PROGRESS_MS);
  const { onProgress: _p, interrupted: _i, onFailure: _f, shard: _s, ...plain } = options;
  if (plain.controlled !== undefined) plain.controlled = sideBySide(plain.controlled, jobs);
  const runs = options.runs;
  try {
    const results = (await Promise.all(
      Array.from({ length: jobs }, (_, job) => {
        const task: JobTask = { job, options: { ...plain, runs }, shard: jobShard(shard, jobs, job), shared };
        return pool.run(task);
      }),
    )) as JobResult[];
    return merge(results, Atomics.load(words, 0) === STOP_SIGNAL);
  } finally {
    clearInterval(timer);
    await pool.destroy();
  }
}

function pick(r: CampaignResult): Omit<JobRate, 'job' | 'shard'> {
  return { programs: r.programs, runs: r.runs, elapsedMs: r.elapsedMs, status: r.status };
}

function merge(results: JobResult[], signalled: boolean): JobsResult {
  const coverage = new Coverage();
  for (const r of results) coverage.merge(r.coverage);
  const failing = results.filter((r) => r.failure !== null);
  const best = failing.sort((a, b) => score(a.failure!) - score(b.failure!))[0] ?? null;
  const decisions = results.reduce((sum, r) => sum + (r.schedule?.decisions ?? 0), 0);
  const controlled = results.some((r) => r.schedule !== null);
  return {
    status: best !== null ? 'failure' : signalled ? 'interrupted' : 'clean',
    runs: results.reduce((sum, r) => sum + r.runs, 0),
    programs: results.reduce((sum, r) => sum + r.programs, 0),
    range: {
      first: Math.min(...results.map((r) => r.range.first)),
      end: Math.max(...results.map((r) => r.range.end)),
    },
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
    failures: results.reduce((sum, r) => sum + r.failures, 0),
    failure: best?.failure ?? null,
    coverage,
    boots: results.reduce((sum, r) => sum + r.boots, 0),
    schedule: controlled
      ? {
          decisions,
          decisionsPerSecond: results.reduce((sum, r) => sum + (r.schedule?.decisionsPerSecond ?? 0), 0),
          meanSteps:
            results.reduce((sum, r) => sum + (r.schedule?.meanSteps ?? 0) * r.runs, 0) /
            Math.max(
              1,
              results.reduce((sum, r) => sum + r.runs, 0),
            ),
        }
      : null,
    hunt: best?.hunt ?? null,
    jobs: results.map((r) => ({
      job: r.job,
      shard: r.shard,
      programs: r.programs,
      runs: r.runs,
      elapsedMs: r.elapsedMs,
      status: r.status,
    })),
  };
}
