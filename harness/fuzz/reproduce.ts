/** Runs a program again and again on a fuzz machine, counting how often it fails. */
import type { RunPlan } from '../../control/driver.ts';
import type { FuzzMachine } from './executor.ts';
import type { DelayPlan } from './injection.ts';
import type { FuzzViolation } from './oracles.ts';
import type { Program } from './program.ts';

/** Fewest runs a bounded reproduction makes, however long they take. */
const MIN_RUNS = 3;

/**
 * Runs `program` `times` times, or fewer (at least MIN_RUNS) once `until` (performance.now())
 * has passed; counts violations of `oracle` (or of any kind). In controlled mode `plans(k)`
 * gives run k's schedule. `runs`: how many it made.
 */
export async function reproduce(
  machine: FuzzMachine,
  program: Program,
  delays: DelayPlan,
  times: number,
  oracle?: string,
  plans?: (k: number) => RunPlan,
  until = Number.POSITIVE_INFINITY,
): Promise<{ runs: number; failures: number; violations: FuzzViolation[]; logs: number[][] }> {
  const violations: FuzzViolation[] = [];
  const logs: number[][] = [];
  let failures = 0;
  let k = 0;
  for (; k < times && (k < MIN_RUNS || performance.now() < until); k++) {
    const { violation, schedule } = await machine.run(program, delays, plans?.(k));
    if (schedule !== undefined) logs.push(schedule.log);
    if (violation === null) continue;
    violations.push(violation);
    if (oracle === undefined || violation.oracle === oracle) failures++;
  }
  return { runs: k, failures, violations, logs };
}
