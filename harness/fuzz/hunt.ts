/**
 * A free-running failure turned into an exact one: the failing program (as generated, before
 * shrinking) is run under the controlled scheduler with several strategies and seeds until a
 * run breaks the same guarantee (the same oracle fires). That schedule is then the program's
 * schedule: the program is shrunk deterministically (one run per candidate), its decision log
 * shrunk, and the repro replays its log exactly.
 *
 * Some races need a timing no schedule of that one program gives (free-running, the program
 * overlapped with the leftovers of a delay or an interrupt storm). When half the budget brings
 * no schedule, the rest goes to a controlled campaign on the same build: fresh programs under
 * the hunt's strategies until one breaks the same guarantee, or failing that another one (one
 * bug shows in several ways, and an exact repro of the build's bug beats a flaky one). Only when
 * neither is found does the free-running repro stay, with its measured rate.
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
  /** The oracle of the free-running finding, the one hunted for. */
  oracle: string;
  found: boolean;
  tries: number;
  ms: number;
  /** The strategy and seed that reproduced it. */
  strategy?: string;
  seed?: number;
  /**
   * Found by the controlled campaign, not under a schedule of the failing program: how many
   * programs it ran, and whether the repro breaks another guarantee than the one hunted.
   */
  campaign?: { programs: number; other: boolean };
}

/** The share of the budget spent on schedules of the failing program before the campaign starts. */
const PROGRAM_SHARE = 0.5;

/** The controlled campaign's programs get seeds apart from the free-running campaign's. */
const CAMPAIGN_SEED_SALT = 0x48554e54;

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
  const oracle = failure.violation.oracle;
  let tries = 0;
  const found = (strategy: string | undefined, seed: number | undefined): HuntResult => ({
    oracle,
    found: true,
    tries,
    ms: performance.now() - started,
    strategy,
    seed,
  });
  try {
    while (performance.now() - started < budgetMs * PROGRAM_SHARE && !options.interrupted?.()) {
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
        if (exact !== null) return { hunt: found(base.strategy, seed), failure: exact };
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
      // Shrinking under the schedule lost the violation: on to the next try.
      if (exact === null) continue;
      return {
        hunt: found(base.strategy, seed),
        failure: { ...exact, foundAfterMs: failure.foundAfterMs, foundAfterRuns: failure.foundAfterRuns },
      };
    }
    const campaign = await controlledCampaign(runs, arbitrary, options, failure, started + budgetMs);
    if (campaign !== null) {
      const plan = campaign.failure.schedule?.plan;
      const hunt = {
        ...found(plan?.strategy, plan?.seed),
        campaign: { programs: campaign.programs, other: campaign.other },
      };
      return { hunt, failure: campaign.failure };
    }
  } finally {
    await machine.shutdown();
  }
  return { hunt: { oracle, found: false, tries, ms: performance.now() - started }, failure: null };
}

/**
 * Fresh programs under the hunt's strategies until `until`: the first that breaks the hunted
 * guarantee, shrunk; else the first that broke another one. A program's shrinking gets what is
 * left of the budget (2 s at least) and its log half that again, so the hunt may end that late.
 */
async function controlledCampaign(
  runs: CampaignRuns,
  arbitrary: fc.Arbitrary<Program>,
  options: HuntOptions,
  failure: Failure,
  until: number,
): Promise<{ failure: Failure; programs: number; other: boolean } | null> {
  const oracle = failure.violation.oracle;
  const seed = (failure.programSeed ^ CAMPAIGN_SEED_SALT) >>> 0;
  let other: Failure | null = null;
  let programs = 0;
  for (let index = 0; performance.now() < until && !options.interrupted?.(); index++) {
    programs++;
    const controlled: ControlledOptions = { ...HUNT_STRATEGIES[index % HUNT_STRATEGIES.length], seed: 0 };
    const shrinkMs = Math.max(2000, until - performance.now());
    const found = await searchProgram(runs, arbitrary, { ...options, seed, controlled, shrinkMs }, index);
    if (found === null || found.schedule === null) continue;
    const exact = { ...found, foundAfterMs: failure.foundAfterMs, foundAfterRuns: failure.foundAfterRuns };
    if (found.violation.oracle === oracle) return { failure: exact, programs, other: false };
    other ??= exact;
  }
  return other === null ? null : { failure: other, programs, other: true };
}
