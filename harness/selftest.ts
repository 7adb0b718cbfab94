/**
 * Proves the oracles work: a clean run must report nothing, and every mutant must be caught
 * (a violation, not merely a hang) within the budget.
 */

import { MUTANTS } from './mutants.ts';
import { DEFAULT_MIX, taskletOnly } from './stress/mix.ts';
import { runStress, type StressStatus } from './stress/run.ts';
import { SELFTEST_MUTANT_NAMES, STRESS_MUTANTS } from './stress-mutants.ts';

export interface SelftestOptions {
  cpus: number;
  tasklets: number;
  budgetMs: number;
  /** Length of the clean run (default: the budget, at most 10 s). */
  cleanMs?: number;
  seed: number;
  mutants?: string[];
  onRow?: (row: SelftestRow) => void;
}

export interface SelftestRow {
  run: string;
  expected: 'clean' | 'caught';
  ok: boolean;
  status: StressStatus;
  /** From workload start to the first violation. */
  detectMs?: number;
  oracle?: string;
  guarantee?: number;
  /** The guarantees the mutant breaks (docs/semantics.md; T n as 100 + n, W n as 200 + n). */
  breaks?: number[];
  /** Caught by an oracle of a guarantee it breaks (false: another oracle noticed first). */
  ownOracle?: boolean;
  detail: string;
}

const CLEAN_RUN_MAX_MS = 10_000;
const MUTANT_HOTPLUG_MS = 500;

export async function runSelftest(options: SelftestOptions): Promise<SelftestRow[]> {
  const rows: SelftestRow[] = [];
  const base = {
    cpus: options.cpus,
    tasklets: options.tasklets,
    seed: options.seed,
    mix: DEFAULT_MIX,
    hotplugMs: 0,
    oracles: true,
  };
  const clean = await runStress({
    ...base,
    durationMs: options.cleanMs ?? Math.min(options.budgetMs, CLEAN_RUN_MAX_MS),
  });
  const first = clean.violations[0];
  rows.push({
    run: 'clean',
    expected: 'clean',
    ok: clean.status === 'clean',
    status: clean.status,
    oracle: first?.oracle,
    guarantee: first?.guarantee,
    detail: first?.message ?? clean.faults[0] ?? `${clean.epochs} drain checks passed`,
  });
  options.onRow?.(rows[0]);
  for (const mutant of options.mutants ?? SELFTEST_MUTANT_NAMES) {
    const { breaks, needsHotplug } = STRESS_MUTANTS[mutant];
    // What is left on an unplugged CPU shows only if CPUs go down: those mutants run with hotplug.
    const hotplugMs = needsHotplug ? MUTANT_HOTPLUG_MS : 0;
    // A tasklet mutant meets the tasklet workload alone (as before timers and BH work joined
    // the mix: its races come as often); the others the whole mix. The clean run has it all.
    const mix = mutant in MUTANTS ? taskletOnly(DEFAULT_MIX) : DEFAULT_MIX;
    const result = await runStress({ ...base, mix, hotplugMs, durationMs: options.budgetMs, inject: mutant });
    const v = result.violations[0];
    const row: SelftestRow = {
      run: mutant,
      expected: 'caught',
      ok: v !== undefined,
      status: result.status,
      detectMs: v?.atMs,
      oracle: v?.oracle,
      guarantee: v?.guarantee,
      breaks,
      ownOracle: v !== undefined && breaks.includes(v.guarantee),
      detail: v?.message ?? result.faults[0] ?? 'survived',
    };
    rows.push(row);
    options.onRow?.(row);
  }
  return rows;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
