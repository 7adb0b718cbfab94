/**
 * One job of `stress --controlled --jobs N`, run in a pool thread (jobs.ts): a whole controlled
 * stress run on its own machine with its own seed. It stops when another job has failed (the
 * shared stop word), and says so itself when it fails; its result comes back as plain data.
 */
import { runStress, type StressOptions, type StressResult } from './run.ts';

/** Stop word values: 0 running, -1 stop (a signal), j+1 job j failed. */
export const STOP_NONE = 0;
export const STOP_SIGNAL = -1;
const STOP_POLL_MS = 50;

export interface StressJobTask {
  job: number;
  options: StressOptions;
  /** Int32Array: [0] the stop word. */
  shared: SharedArrayBuffer;
}

export default async function runStressJob(task: StressJobTask): Promise<StressResult> {
  const words = new Int32Array(task.shared);
  const me = task.job + 1;
  let poll: ReturnType<typeof setInterval> | undefined;
  const interrupted = new Promise<void>((resolve) => {
    poll = setInterval(() => {
      const stop = Atomics.load(words, 0);
      if (stop !== STOP_NONE && stop !== me) resolve();
    }, STOP_POLL_MS);
  });
  try {
    const result = await runStress(task.options, { interrupted });
    if (result.status === 'violation' || result.status === 'fault')
      Atomics.compareExchange(words, 0, STOP_NONE, me);
    return result;
  } finally {
    clearInterval(poll);
  }
}
