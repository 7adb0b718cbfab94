/** A controlled failure's decision log, replayed with as few preemptions as still fail. */
import type { RunPlan } from '../../control/driver.ts';
import type { CampaignRuns } from './campaign-runs.ts';
import type { FailureSchedule } from './failure.ts';
import type { DelayPlan } from './injection.ts';
import type { Program } from './program.ts';
import { preemptions, shrinkSchedule } from './schedule-shrink.ts';

/** Runs `program` under `plan` once more, then shrinks its log; null if that run did not fail alike. */
export async function minimalSchedule(
  runs: CampaignRuns,
  program: Program,
  delays: DelayPlan,
  plan: RunPlan,
  oracle: string,
  expired: () => boolean,
): Promise<FailureSchedule | null> {
  const original = await runs.execute(program, delays, plan);
  runs.runs++;
  if (original.violation?.oracle !== oracle || original.schedule === undefined) return null;
  const shrunk = await shrinkSchedule(
    original.schedule.log,
    oracle,
    async (log) => {
      runs.runs++;
      return runs.execute(program, delays, { ...plan, replay: log });
    },
    expired,
  );
  return {
    plan,
    log: shrunk.log,
    steps: original.schedule.steps,
    preemptions: preemptions(shrunk.log).length,
    originalPreemptions: shrunk.from,
    shrinkRuns: shrunk.runs,
  };
}
