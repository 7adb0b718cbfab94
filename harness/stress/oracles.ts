/**
 * The oracle only the stress workload needs: its coalescing episodes (G2 of docs/semantics.md).
 * Every other check is shared with the fuzzer, in harness/oracles/.
 */
import { type Violation, violation } from '../oracles/guarantees.ts';
import { F_RUNS, tw } from '../oracles/shadow.ts';

/**
 * End of a coalescing episode: `schedules` calls were made from several CPUs while the tasklet
 * was disabled and pending, then it was enabled and has run and gone idle. Check 2: one run.
 */
export function on_episode_end(
  sh: Int32Array,
  i: number,
  runsBefore: number,
  schedules: number,
): Violation | null {
  const runs = Atomics.load(sh, tw(i, F_RUNS)) - runsBefore;
  if (runs === 1) return null;
  return violation(
    'coalescing',
    i,
    [],
    `${schedules} schedules while pending gave ${runs} runs instead of one`,
  );
}
