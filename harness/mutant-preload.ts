/**
 * Preloaded on every CPU before the modules when a run injects a bug: installs the mutant named
 * in the preload options. On the controller thread there are no options and it does nothing.
 */
import { MUTANTS } from './mutants.ts';
import { TIMER_MUTANTS } from './timer-mutants.ts';
import { WORK_MUTANTS } from './work-mutants.ts';

const options = (globalThis as { __taskletRtPreloadOptions?: { mutant?: string } }).__taskletRtPreloadOptions;
const name = options?.mutant;
if (name !== undefined) {
  const mutant = MUTANTS[name] ?? TIMER_MUTANTS[name] ?? WORK_MUTANTS[name];
  if (mutant === undefined) throw new Error(`unknown mutant '${name}'`);
  mutant.install();
}
