/**
 * Every mutant a stress run can inject (`stress --inject`): the tasklet mutants (G numbers), the
 * timer mutants (T, numbered 100 + n as in the oracle vocabulary) and the BH work mutants (W,
 * 200 + n). mutant-preload.ts installs any of them by name.
 */
import { MUTANTS } from './mutants.ts';
import { guaranteeLabel } from './oracles/guarantees.ts';
import { TIMER_MUTANTS } from './timer-mutants.ts';
import { WORK_MUTANTS } from './work-mutants.ts';

export interface StressMutant {
  description: string;
  /** The guarantees it breaks, as oracle guarantee numbers (G n, T 100 + n, W 200 + n). */
  breaks: number[];
  /** It shows only when CPUs go offline. */
  needsHotplug: boolean;
  /** Only fuzz has an oracle for it: selftest leaves it out. */
  fuzzOnly: boolean;
}

const shifted = (
  table: Record<
    string,
    { description: string; breaks: number[]; needsHotplug?: boolean; fuzzOnly?: boolean }
  >,
  by: number,
): Record<string, StressMutant> =>
  Object.fromEntries(
    Object.entries(table).map(([name, m]) => [
      name,
      {
        description: m.description,
        breaks: m.breaks.map((n) => n + by),
        needsHotplug: m.needsHotplug ?? false,
        fuzzOnly: m.fuzzOnly ?? false,
      },
    ]),
  );

export const STRESS_MUTANTS: Record<string, StressMutant> = {
  ...shifted(MUTANTS, 0),
  ...shifted(TIMER_MUTANTS, 100),
  ...shifted(WORK_MUTANTS, 200),
};

export const STRESS_MUTANT_NAMES = Object.keys(STRESS_MUTANTS);
/** The mutants a stress run catches: the ones selftest sweeps. */
export const SELFTEST_MUTANT_NAMES = STRESS_MUTANT_NAMES.filter((name) => !STRESS_MUTANTS[name].fuzzOnly);
export const TIMER_WORK_MUTANT_NAMES = [...Object.keys(TIMER_MUTANTS), ...Object.keys(WORK_MUTANTS)];

/** "G2, G11" or "T3". */
export const breaksLabel = (breaks: number[]): string => breaks.map(guaranteeLabel).join(', ');
