/**
 * A free-running failure turned into an exact one: the failing program (as generated, before
 * shrinking) is run under the controlled scheduler with several strategies and seeds until a
 * run breaks the same guarantee (the same oracle fires). That schedule is then the program's
 * schedule: the program is shrunk deterministically (one run per candidate), its decision log
 * shrunk, and the repro replays its log exactly. When no schedule is found within the budget,
 * the free-running repro stays, with its measured rate.
 */

import type fc from 'fast-check';
import type { ControlledOptions } from '../../control/driver.ts';
import { DEFAULT_EXPECTED_STEPS, HUNT_STRATEGIES } from '../../control/plan.ts';
import { CampaignRuns } from './campaign-runs.ts';
import { FuzzMachine } from './executor.ts';
import type { Failure } from './failure.ts';
import { minimalSchedule } from './minimal-schedule.ts';
import type { Program } from './program.ts';
import { reproduce } from './reproduce.ts';
import { type SearchOptions, searchProgram } from './search.ts';

export interface HuntResult {
  found: boolean;
  tries: number;
  ms: number;
  /** The strategy and seed that reproduced it. */
  strategy?: string;
  seed?: number;
}

export interface HuntOptions extends SearchOptions {
  cpus: number;
  inject?: string;
  hangMs?: number;
}

/** The shrunk program under `plan`: if the same oracle fires, its log shrunk and its replay rate measured. */
async function exactAsShrunk(
  runs: CampaignRuns,
  failure: Failure,
  plan: ControlledOptions,
  until: number,
): Promise<Failure | null> {
  const oracle = failure.violation.oracle;
  const first = await runs.execute(failure.program, failure.delays, plan);
  if (first.violation?.oracle !== oracle) return null;
  const schedule = await minimalSchedule(
    runs,
    failure.program,
    failure.delays,
    plan,
    oracle,
    () => performance.now() > until + 10_000,
  );
  if (schedule === null) return null;
  const reproRuns = failure.reproduction.runs;
  const { failures, violations } = await reproduce(
    runs.machine,
    failure.program,
    failure.delays,
    reproRuns,
    oracle,
    () => ({ ...plan, replay: schedule.log }),
  );
  return {
    ...failure,
    violation: violations.find((v) => v.oracle === oracle) ?? first.violation,
    schedule,
    reproduction: { runs: reproRuns, failures },
  };
}

export async function huntControlled(
  options: HuntOptions,
  arbitrary: fc.Arbitrary<Program>,
  failure: Failure,
  budgetMs: number,
): Promise<{ hunt: HuntResult; failure: Failure | null }> {
  const started = performance.now();
  const machine = new FuzzMachine({
    cpus: options.cpus,
    inject: options.inject,
    hangMs: options.hangMs,
    controlled: { strategy: 'pct', seed: failure.programSeed },
  });
  const runs = new CampaignRuns(machine, true);
  let tries = 0;
  try {
    while (performance.now() - started < budgetMs && !options.interrupted?.()) {
      const base = HUNT_STRATEGIES[tries % HUNT_STRATEGIES.length];
      const seed = (failure.programSeed + Math.imul(tries + 1, 0x9e3779b1)) >>> 0;
      const mean = Math.round(runs.meter.meanSteps);
      const expectedSteps = mean > 0 ? mean : DEFAULT_EXPECTED_STEPS;
      const controlled: ControlledOptions = { ...base, seed, expectedSteps };
      tries++;
      // Odd tries: the shrunk program as it is (only its schedule left to shrink); even tries:
      // the program as generated, shrunk again under the schedule found.
      if (tries % 2 === 1) {
        const exact = await exactAsShrunk(runs, failure, controlled, started + budgetMs);
        if (exact !== null) {
          return {
            hunt: { found: true, tries, ms: performance.now() - started, strategy: base.strategy, seed },
            failure: exact,
          };
        }
        continue;
      }
      const outcome = await runs.execute(failure.original, failure.delays, { ...controlled });
      if (outcome.violation?.oracle !== failure.violation.oracle) continue;
      const exact = await searchProgram(
        runs,
        arbitrary,
        { ...options, controlled, scheduleSeed: seed },
        failure.index,
      );
      const hunt: HuntResult = {
        found: exact !== null,
        tries,
        ms: performance.now() - started,
        strategy: base.strategy,
        seed,
      };
      if (exact === null) return { hunt, failure: null };
      return {
        hunt,
        failure: { ...exact, foundAfterMs: failure.foundAfterMs, foundAfterRuns: failure.foundAfterRuns },
      };
    }
  } finally {
    await machine.shutdown();
  }
  return { hunt: { found: false, tries, ms: performance.now() - started }, failure: null };
}
