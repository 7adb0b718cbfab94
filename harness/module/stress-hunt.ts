/**
 * A free-running `stress MODULE` finding turned into an exact one, as the built-in stress hunt
 * does (harness/stress/hunt.ts): the same module, stimulus, parameters and hotplug run under the
 * controlled scheduler with several strategies and seeds, each try for a bounded machine time,
 * until a run ends with the same finding (the same oracle and first line, CPU numbers aside).
 * That run is shortened (its machine time halved while it still fails the same way) and run
 * once more: the same trace hash and the same finding make it exact, a command line that gives
 * that run every time.
 */
import { type ControlledOptions, HUNT_STRATEGIES } from '../../control/plan.ts';
import { findingKey } from './fuzz-run.ts';
import { reproCommand } from './report.ts';
import { type ModuleStressOptions, type ModuleStressResult, stressModule } from './stress.ts';

export interface ModuleStressHuntOptions {
  /** Wall-clock budget for the tries (shortening and the check run come on top). */
  budgetMs: number;
  /** Machine time of one try. */
  tryMs: number;
  /** Told before each run the hunt makes. */
  onRun?: (what: 'try' | 'shorten' | 'check', options: ModuleStressOptions) => void;
  interrupted?: () => boolean;
}

export interface ModuleStressHunt {
  found: boolean;
  tries: number;
  ms: number;
  /** The finding hunted for (findingKey of the first violation). */
  key: string;
  /** The controlled run that reproduces it. */
  result?: ModuleStressResult;
  /** The check run gave the same trace hash and the same finding. */
  exact?: boolean;
}

/** Shortest machine time a shortened repro is tried at. */
const MIN_DURATION_MS = 100;

const keyOf = (result: ModuleStressResult): string | null =>
  result.violations[0] === undefined ? null : findingKey(result.violations[0]);

export async function huntModuleStress(
  failed: ModuleStressResult,
  options: ModuleStressHuntOptions,
): Promise<ModuleStressHunt> {
  const started = performance.now();
  const ms = (): number => performance.now() - started;
  const key = keyOf(failed) ?? '';
  const run = (what: 'try' | 'shorten' | 'check', plan: ModuleStressOptions): Promise<ModuleStressResult> => {
    options.onRun?.(what, plan);
    return stressModule(plan);
  };
  const base: ModuleStressOptions = {
    ...failed.options,
    durationMs: Math.min(failed.options.durationMs, options.tryMs),
    traceFiles: undefined,
    stepLimit: undefined,
  };
  let tries = 0;
  while (key !== '' && ms() < options.budgetMs && !options.interrupted?.()) {
    const strategy = HUNT_STRATEGIES[tries % HUNT_STRATEGIES.length];
    // The first try keeps the failing run's seed: the stimulus it drew is the one that failed.
    const seed =
      tries === 0 ? failed.options.seed : (failed.options.seed + Math.imul(tries, 0x9e3779b1)) >>> 0;
    tries++;
    const controlled: ControlledOptions = { ...strategy, seed };
    const plan: ModuleStressOptions = { ...base, seed, controlled };
    const result = await run('try', plan);
    if (keyOf(result) !== key) continue;
    let repro = { plan, result };
    for (let d = Math.floor(plan.durationMs / 2); d >= MIN_DURATION_MS; d = Math.floor(d / 2)) {
      const shorter = { ...repro.plan, durationMs: d };
      const candidate = await run('shorten', shorter);
      if (keyOf(candidate) !== key) break;
      repro = { plan: shorter, result: candidate };
    }
    const check = await run('check', repro.plan);
    const exact = keyOf(check) === key && check.schedule?.traceHash === repro.result.schedule?.traceHash;
    return { found: true, tries, ms: ms(), key, result: repro.result, exact };
  }
  return { found: false, tries, ms: ms(), key };
}

/** What the hunt found, for the end of the report. */
export function moduleHuntReport(hunt: ModuleStressHunt): string {
  const secs = (hunt.ms / 1000).toFixed(1);
  const command = hunt.result === undefined ? null : reproCommand(hunt.result);
  if (!hunt.found || hunt.result === undefined || command === null)
    return `no controlled run reproduced it in ${secs}s (${hunt.tries} tries): the free-running seed stays the repro, and it depends on timing`;
  const v = hunt.result.violations[0];
  const at = ((v.machineMs ?? v.atMs) / 1000).toFixed(3);
  return [
    `exact repro found in ${secs}s (${hunt.tries} ${hunt.tries === 1 ? 'try' : 'tries'}): ${v.oracle} at ${at}s of machine time`,
    `  ${command}`,
    hunt.exact
      ? `  runs the same every time: run twice, the same finding and trace hash ${hunt.result.schedule?.traceHash}`
      : '  WARNING: a second run of it differed (trace hash or finding): report this as a determinism bug',
  ].join('\n');
}

/** The hunt in --json: the repro's command line, options and finding. */
export function moduleHuntJson(hunt: ModuleStressHunt): object {
  const result = hunt.result;
  return {
    found: hunt.found,
    tries: hunt.tries,
    ms: Math.round(hunt.ms),
    exact: hunt.exact ?? false,
    ...(result === undefined
      ? {}
      : {
          command: reproCommand(result),
          options: result.options,
          violation: result.violations[0],
          traceHash: result.schedule?.traceHash,
        }),
  };
}
