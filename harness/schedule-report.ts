/** How a controlled run or campaign is summed up: decisions, rates and PCT's guarantee. */
import { createHash } from 'node:crypto';
import type { ControlledOptions } from '../control/driver.ts';
import { DEFAULT_DEPTH } from '../control/driver.ts';

/**
 * PCT's per-run lower bound on finding a bug of depth d (Burckhardt et al., ASPLOS 2010):
 * 1 / (n · k^(d-1)) for n threads (CPUs) and k steps (decisions) per run.
 */
export function pctBound(cpus: number, steps: number, depth: number): number {
  return 1 / (cpus * Math.max(1, steps) ** (depth - 1));
}

/** One line on the strategy, and for PCT the bound with the measured k. */
export function strategyLine(options: ControlledOptions, cpus: number, meanSteps: number): string {
  const base = `controlled: strategy ${options.strategy}, seed ${options.seed}`;
  if (options.strategy === 'rr') return `${base}, quantum ${options.quantum ?? 1}`;
  if (options.strategy !== 'pct') return base;
  const d = options.depth ?? DEFAULT_DEPTH;
  const k = Math.round(meanSteps);
  return `${base}, depth ${d}: each run finds a depth-${d} bug with probability >= 1/(n*k^(d-1)) = 1/(${cpus}*${k}^${d - 1}) = ${pctBound(cpus, k, d).toExponential(2)} (k = ${k} decisions per run, measured)`;
}

/** A short hash (of a trace or a decision log) to compare runs by. */
export function shortHash(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16);
}
