/**
 * `stress --controlled --jobs N`: N controlled stress runs side by side, each on its own machine
 * in a pool thread (piscina), job j with seed S+j (so each job alone is `--seed S+j`). A
 * controlled run executes one CPU at a time and so uses about one host core; N jobs use N. The
 * first job that fails stops the others, and its result is the run's result (its seed replays
 * it). A clean run's totals, epochs, hotplug operations and coverage add up over the jobs.
 */

import { Piscina } from 'piscina';
import { sideBySide } from '../../control/plan.ts';
import { mergeCoverage } from './coverage.ts';
import { STOP_NONE, STOP_SIGNAL, type StressJobTask } from './job.ts';
import type { StressOptions } from './options.ts';
import type { CpuTotals, StressResult } from './result.ts';

export interface StressJob {
  job: number;
  seed: number;
  status: StressResult['status'];
  elapsedMs: number;
  decisions: number;
  decisionsPerSecond: number;
  traceHash: string | null;
}

export interface StressJobsResult {
  /** The failing job's result, or the clean jobs' results added up. */
  result: StressResult;
  jobs: StressJob[];
}

/** The pool thread's entry: the sources' bootstrap (tsx), or the build's job.js. */
function jobEntry(): string {
  return import.meta.url.endsWith('.ts')
    ? new URL('./job-entry.mjs', import.meta.url).href
    : new URL('./job.js', import.meta.url).href;
}

/** The options of job j: seed S+j, for the workload and the controlled strategy alike. */
export function jobOptions(options: StressOptions, job: number): StressOptions {
  const seed = (options.seed + job) >>> 0;
  return { ...options, seed, controlled: options.controlled && { ...options.controlled, seed } };
}

export async function runStressJobs(
  options: StressOptions,
  jobs: number,
  interrupted?: Promise<void>,
): Promise<StressJobsResult> {
  const shared = new SharedArrayBuffer(4);
  const words = new Int32Array(shared);
  interrupted?.then(() => Atomics.compareExchange(words, 0, STOP_NONE, STOP_SIGNAL));
  const pool = new Piscina({ filename: jobEntry(), minThreads: jobs, maxThreads: jobs, idleTimeout: 1000 });
  const controlled = options.controlled && sideBySide(options.controlled, jobs);
  const sideBySideOptions: StressOptions = { ...options, controlled };
  try {
    const results = (await Promise.all(
      Array.from({ length: jobs }, (_, job) => {
        const task: StressJobTask = { job, options: jobOptions(sideBySideOptions, job), shared };
        return pool.run(task);
      }),
    )) as StressResult[];
    const stop = Atomics.load(words, 0);
    return {
      result: stop > 0 ? results[stop - 1] : addUp(results, stop === STOP_SIGNAL),
      jobs: results.map(jobLine),
    };
  } finally {
    await pool.destroy();
  }
}

function jobLine(r: StressResult, job: number): StressJob {
  return {
    job,
    seed: r.seed,
    status: r.status,
    elapsedMs: r.elapsedMs,
    decisions: r.schedule?.steps ?? 0,
    decisionsPerSecond: r.schedule?.decisionsPerSecond ?? 0,
    traceHash: r.schedule?.traceHash ?? null,
  };
}

/** Clean (or all interrupted) jobs as one result: job 0's, with the counts of all. */
function addUp(results: StressResult[], signalled: boolean): StressResult {
  const [first] = results;
  const sum = (f: (r: StressResult) => number): number => results.reduce((n, r) => n + f(r), 0);
  const totals: CpuTotals[] = first.totals.map((_, cpu) => {
    const at = (key: keyof CpuTotals): number => sum((r) => r.totals[cpu]?.[key] ?? 0);
    return {
      runs: at('runs'),
      schedules: at('schedules'),
      coalesced: at('coalesced'),
      requeues: at('requeues'),
      disables: at('disables'),
      kills: at('kills'),
    };
  });
  const coverages = results.flatMap((r) => (r.coverage === null ? [] : [r.coverage]));
  return {
    ...first,
    status: signalled || results.some((r) => r.status === 'interrupted') ? 'interrupted' : 'clean',
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
    epochs: sum((r) => r.epochs),
    hotplugOps: sum((r) => r.hotplugOps),
    hotplugInFlight: sum((r) => r.hotplugInFlight),
    hotplugBackToBack: sum((r) => r.hotplugBackToBack),
    totals,
    coverage: coverages.length > 0 ? mergeCoverage(coverages) : null,
  };
}
