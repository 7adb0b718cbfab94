/**
 * A free-running stress failure turned into an exact one. The same workload (CPUs, tasklets,
 * mix, mutant, hotplug) runs under the controlled scheduler with several strategies and seeds,
 * each try for a bounded machine time, until a run breaks the same guarantee (the same oracle
 * fires first). That run is then shortened deterministically (its duration halved while it
 * still fails the same way) and run once more: the same trace hash and the same violation make
 * it an exact repro, a command line that gives that run every time. When no try breaks that
 * guarantee but one broke another, that one is the repro, and the report says so.
 */
import { type ControlledOptions, HUNT_STRATEGIES } from '../../control/plan.ts';
import type { OracleName } from '../oracles/guarantees.ts';
import { stressCommandLine } from './command-line.ts';
import type { StressOptions } from './options.ts';
import type { StressResult, ViolationReport } from './result.ts';
import { runStress } from './run.ts';

export interface StressHuntOptions {
  /** Wall-clock budget for the tries (shortening and the check run come on top). */
  budgetMs: number;
  /** Machine time of one try. */
  tryMs: number;
  /** Told before each run the hunt makes. */
  onRun?: (what: 'try' | 'shorten' | 'check' | 'rate', options: StressOptions) => void;
  interrupted?: () => boolean;
}

export interface StressHunt {
  found: boolean;
  tries: number;
  ms: number;
  /** The oracle hunted for: the first violation's. */
  oracle: OracleName | null;
  /** The run that reproduces it (controlled; durationMs is machine time). */
  options?: StressOptions;
  violation?: ViolationReport;
  traceHash?: string;
  /** The check run gave the same trace hash and the same violation. */
  exact?: boolean;
  /**
   * No controlled run broke `oracle`, and this repro breaks another guarantee (violation.oracle)
   * of the same build: one bug can show two ways, and a repro that always fails beats none.
   */
  other?: boolean;
  /** Not found: how often the free-running run itself fails the same way again. */
  freeRunning?: { runs: number; failures: number };
}

/** Free-running reruns that measure a repro's rate when no exact one was found. */
const RATE_RUNS = 3;

/** Shortest machine time a shortened repro is tried at. */
const MIN_DURATION_MS = 100;

type HuntRun = (what: 'try' | 'shorten' | 'check' | 'rate', plan: StressOptions) => Promise<StressResult>;

const firstOracle = (result: StressResult): OracleName | null => result.violations[0]?.oracle ?? null;

export async function huntStressSchedule(
  failed: StressResult,
  options: StressHuntOptions,
): Promise<StressHunt> {
  const started = performance.now();
  const oracle = firstOracle(failed);
  const base: StressOptions = {
    ...failed.options,
    durationMs: Math.min(failed.options.durationMs, options.tryMs),
    traceFiles: undefined,
    stepLimit: undefined,
  };
  const run: HuntRun = (what, plan) => {
    options.onRun?.(what, plan);
    return runStress(plan);
  };
  const done = (repro: Repro, other: boolean): StressHunt => ({
    found: true,
    tries,
    ms: performance.now() - started,
    oracle,
    ...repro,
    other,
  });
  let tries = 0;
  // The first controlled run that broke another guarantee: the repro if none breaks `oracle`.
  let otherFailure: { plan: StressOptions; result: StressResult } | null = null;
  while (oracle !== null && performance.now() - started < options.budgetMs && !options.interrupted?.()) {
    const strategy = HUNT_STRATEGIES[tries % HUNT_STRATEGIES.length];
    // The first try keeps the failing run's seed: the workload it chose is the one that failed.
    const seed = tries === 0 ? failed.seed : (failed.seed + Math.imul(tries, 0x9e3779b1)) >>> 0;
    const controlled: ControlledOptions = { ...strategy, seed };
    tries++;
    const plan: StressOptions = { ...base, seed, controlled };
    const result = await run('try', plan);
    if (firstOracle(result) === oracle) return done(await exactRepro(run, plan, result), false);
    if (otherFailure === null && firstOracle(result) !== null) otherFailure = { plan, result };
  }
  if (oracle === null || options.interrupted?.())
    return { found: false, tries, ms: performance.now() - started, oracle };
  if (otherFailure !== null) return done(await exactRepro(run, otherFailure.plan, otherFailure.result), true);
  // Each rerun gets twice the time the failure took to show.
  const rerun = {
    ...failed.options,
    durationMs: Math.min(failed.options.durationMs, 2 * failed.elapsedMs + 1000),
  };
  let failures = 0;
  for (let n = 0; n < RATE_RUNS; n++) if (firstOracle(await run('rate', rerun)) === oracle) failures++;
  const ms = performance.now() - started;
  return { found: false, tries, ms, oracle, freeRunning: { runs: RATE_RUNS, failures } };
}

type Repro = Required<Pick<StressHunt, 'options' | 'violation' | 'exact'>> & { traceHash?: string };

/**
 * A controlled run that failed, shortened deterministically (its machine time halved while it
 * still fails the same way), then run once more: the same trace hash and violation make it exact.
 */
async function exactRepro(run: HuntRun, failedPlan: StressOptions, failed: StressResult): Promise<Repro> {
  const oracle = firstOracle(failed);
  let plan = failedPlan;
  let result = failed;
  for (let ms = Math.floor(plan.durationMs / 2); ms >= MIN_DURATION_MS; ms = Math.floor(ms / 2)) {
    const shorter = { ...plan, durationMs: ms };
    const candidate = await run('shorten', shorter);
    if (firstOracle(candidate) !== oracle) break;
    plan = shorter;
    result = candidate;
  }
  const check = await run('check', plan);
  const exact =
    check.schedule?.traceHash === result.schedule?.traceHash &&
    check.violations[0]?.message === result.violations[0]?.message;
  return { options: plan, violation: result.violations[0], traceHash: result.schedule?.traceHash, exact };
}

/** What the hunt found, for the end of the stress report. */
export function huntReport(hunt: StressHunt): string {
  const secs = (hunt.ms / 1000).toFixed(1);
  if (!hunt.found || hunt.options === undefined) {
    const rate = hunt.freeRunning
      ? `; rerun free-running it failed the same way ${hunt.freeRunning.failures}/${hunt.freeRunning.runs} times`
      : '';
    return `no controlled run reproduced ${hunt.oracle} in ${secs}s (${hunt.tries} tries): the free-running seed stays the repro, and it depends on timing${rate}`;
  }
  const seconds = ((hunt.violation?.machineMs ?? hunt.violation?.atMs ?? 0) / 1000).toFixed(3);
  const found = hunt.violation?.oracle ?? hunt.oracle;
  const head = hunt.other
    ? `no controlled run broke ${hunt.oracle} in ${secs}s (${hunt.tries} tries); the same build breaks ${found} every time`
    : `exact repro found in ${secs}s (${hunt.tries} ${hunt.tries === 1 ? 'try' : 'tries'})`;
  return [
    `${head}: ${found} at ${seconds}s of machine time`,
    `  ${stressCommandLine(hunt.options)}`,
    hunt.exact
      ? `  runs the same every time: run twice, the same violation and trace hash ${hunt.traceHash}`
      : '  WARNING: a second run of it differed (trace hash or violation): report this as a determinism bug',
  ].join('\n');
}
