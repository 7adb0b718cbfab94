/**
 * Preloaded on every CPU before the modules when a run injects a bug: installs the mutant named
 * in the preload options. On the controller thread there are no options and it does nothing.
 */
import { MUTANTS } from './mutants.ts';

const options = (globalThis as { __taskletRtPreloadOptions?: { mutant?: string } }).__taskletRtPreloadOptions;
const name = options?.mutant;
if (name !== undefined) {
  const mutant = MUTANTS[name];
  if (mutant === undefined) throw new Error(`unknown mutant '${name}'`);
  mutant.install();
}
