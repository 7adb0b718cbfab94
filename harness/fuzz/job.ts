/**
 * One job of `fuzz --jobs N`, run in a pool thread (jobs.ts): a whole campaign on its own machine
 * over its own shard of program numbers. It stops when another job has found a failure (the
 * shared stop word), and says so itself when it finds one; its result comes back as plain data.
 */
import { type CampaignOptions, type CampaignResult, runCampaign } from './campaign.ts';
import type { Shard } from './shard.ts';

/** Stop word values: 0 running, -1 stop (a signal), j+1 job j found a failure. */
export const STOP_NONE = 0;
export const STOP_SIGNAL = -1;

export interface JobTask {
  job: number;
  options: Omit<CampaignOptions, 'onProgress' | 'interrupted' | 'onFailure' | 'shard'>;
  shard: Shard;
  /** Int32Array: [0] the stop word; then per job its runs and programs so far. */
  shared: SharedArrayBuffer;
}

export type JobResult = Omit<CampaignResult, 'coverage'> & {
  job: number;
  shard: Shard;
  coverage: { seen: [string, number][]; added: number[] };
};

export const progressWord = (job: number): number => 1 + job * 2;

export default async function runJob(task: JobTask): Promise<JobResult> {
  const words = new Int32Array(task.shared);
  const me = task.job + 1;
  const result = await runCampaign({
    ...task.options,
    shard: task.shard,
    interrupted: () => {
      const stop = Atomics.load(words, 0);
      return stop !== STOP_NONE && stop !== me;
    },
    onFailure: () => {
      Atomics.compareExchange(words, 0, STOP_NONE, me);
    },
    onProgress: (p) => {
      Atomics.store(words, progressWord(task.job), p.runs);
    },
  });
  Atomics.store(words, progressWord(task.job), result.runs);
  Atomics.store(words, progressWord(task.job) + 1, result.programs);
  return { ...result, job: task.job, shard: task.shard, coverage: result.coverage.toJSON() };
}
