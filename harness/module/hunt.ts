/**
 * A free-running module finding turned into an exact one. The shrunk program (on odd tries) or
 * the program as generated (on even ones) runs under the controlled scheduler with the hunt's
 * strategies and fresh schedule seeds until a run ends with the same finding. Under that
 * schedule the program is shrunk again (one run a candidate: a controlled run is
 * deterministic) and its decision log replayed once more: the same finding and the same log
 * make it exact. When no schedule is found within the budget, the free-running repro stays.
 */
import type { ControlledOptions } from '../../control/driver.ts';
import { HUNT_STRATEGIES } from '../../control/plan.ts';
import { findingOf, type ModuleFinding, type ModuleFuzzOptions, shrinkModuleProgram } from './fuzz.ts';
import { findingKey, runModuleProgram } from './fuzz-run.ts';

export interface ModuleHunt {
  found: boolean;
  tries: number;
  ms: number;
  /** The schedule that reproduces it (its seed is the program's). */
  controlled?: ControlledOptions;
  /** The check run followed the log and ended with the same finding. */
  exact?: boolean;
}

/** Shrinking under the schedule found gets at most this share of what is left of the budget (and options.shrinkMs). */
const SHRINK_SHARE = 0.5;

export async function huntModuleSchedule(
  options: ModuleFuzzOptions,
  finding: ModuleFinding,
  budgetMs: number,
): Promise<{ hunt: ModuleHunt; finding: ModuleFinding | null }> {
  const started = performance.now();
  const ms = (): number => performance.now() - started;
  const key = findingKey(findingOf(finding.outcome)!);
  let tries = 0;
  while (ms() < budgetMs && !options.interrupted?.()) {
    const strategy = HUNT_STRATEGIES[tries % HUNT_STRATEGIES.length];
    // Program seeds are fast-check naturals below 2^31: the schedule seed is one too.
    const seed = ((finding.program.seed + Math.imul(tries + 1, 0x9e3779b1)) >>> 0) & 0x7fffffff;
    tries++;
    const controlled: ControlledOptions = { ...strategy, seed };
    const program = { ...(tries % 2 === 1 ? finding.program : finding.original), seed };
    const target: ModuleFuzzOptions = {
      ...options,
      controlled,
      shrinkMs: Math.min(options.shrinkMs ?? Number.POSITIVE_INFINITY, (budgetMs - ms()) * SHRINK_SHARE),
    };
    const outcome = await runModuleProgram(target, program);
    const found = findingOf(outcome);
    if (found === null || findingKey(found) !== key) continue;
    const shrunk = await shrinkModuleProgram(target, program, outcome, key, () => {});
    const log = shrunk.outcome.schedule?.log;
    const check = await runModuleProgram(target, shrunk.program, log);
    const again = findingOf(check);
    const exact =
      again !== null &&
      findingKey(again) === key &&
      JSON.stringify(check.schedule?.log) === JSON.stringify(log);
    return {
      hunt: { found: true, tries, ms: ms(), controlled, exact },
      finding: {
        ...finding,
        program: shrunk.program,
        outcome: shrunk.outcome,
        shrinkRuns: finding.shrinkRuns + shrunk.runs,
      },
    };
  }
  return { hunt: { found: false, tries, ms: ms() }, finding: null };
}
