/**
 * Bounds on a tasklet's disable count (G8), kept by the harness around each disable and enable
 * it makes. A disable raises the count once between its start and its return, an enable lowers
 * it once between its start and its return, so whatever runs concurrently, a count that no
 * update lost lies between "disables returned minus enables started" and "disables started
 * minus enables returned". A count outside them lost an update (or something else wrote it).
 */
import { type Violation, violation } from './guarantees.ts';
import { F_COUNT_HIGH, F_COUNT_LOW, F_COUNT_STEPS, tw } from './shadow.ts';

/** Runs `call`, a tasklet_disable* of tasklet i, inside the bounds' bookkeeping. */
export function counted_disable<T>(sh: Int32Array, i: number, call: () => T): T {
  step(sh, i, F_COUNT_HIGH, 1);
  const result = call();
  step(sh, i, F_COUNT_LOW, 1);
  return result;
}

/** Runs `call`, a tasklet_enable of tasklet i, inside the bounds' bookkeeping. */
export function counted_enable<T>(sh: Int32Array, i: number, call: () => T): T {
  step(sh, i, F_COUNT_LOW, -1);
  const result = call();
  step(sh, i, F_COUNT_HIGH, -1);
  return result;
}

/** Moves one bound, then counts the move (after it: a reader that saw the old count sees it). */
function step(sh: Int32Array, i: number, bound: number, delta: number): void {
  Atomics.add(sh, tw(i, bound), delta);
  Atomics.add(sh, tw(i, F_COUNT_STEPS), 1);
}

/**
 * Tasklet i's disable count, read by `count`, against its bounds. If a bound moved while they
 * and the count were read (a disable or enable started or returned, even a disable and its
 * enable both), nothing is judged: the count read may belong to either side of that step.
 */
export function count_in_bounds(
  sh: Int32Array,
  i: number,
  name: string,
  count: () => number,
): Violation | null {
  const low = Atomics.load(sh, tw(i, F_COUNT_LOW));
  const high = Atomics.load(sh, tw(i, F_COUNT_HIGH));
  const now = count();
  if (Atomics.load(sh, tw(i, F_COUNT_LOW)) !== low || Atomics.load(sh, tw(i, F_COUNT_HIGH)) !== high)
    return null;
  if (now >= low && now <= high) return null;
  const allowed = low === high ? `${low}` : `${low} to ${high}`;
  return violation(
    'disabled',
    i,
    [],
    `${name}'s disable count is ${now}, but its disables and enables so far leave it ${allowed}: an update of the count was lost`,
  );
}

/** The first of `n` tasklets whose count is out of bounds (a lost update explains what follows it). */
export function first_count_off_bounds(
  sh: Int32Array,
  n: number,
  name: (i: number) => string,
  count: (i: number) => number,
): Violation | null {
  for (let i = 0; i < n; i++) {
    const found = count_in_bounds(sh, i, name(i), () => count(i));
    if (found !== null) return found;
  }
  return null;
}
