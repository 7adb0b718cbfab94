/** Runs a program again and again on a fuzz machine, counting how often it fails. */
import type { RunPlan } from '../../control/driver.ts';
import type { FuzzMachine } from './executor.ts';
import type { DelayPlan } from './injection.ts';
import type { FuzzViolation } from './oracles.ts';
import type { Program } from './program.ts';

/**
 * Runs `program` `times` times; counts violations of `oracle` (or of any kind). In controlled
 * mode `plans(k)` gives run k's schedule.
 */
export async function reproduce(
  machine: FuzzMachine,
  program: Program,
  delays: DelayPlan,
  times: number,
  oracle?: string,
  plans?: (k: number) => RunPlan,
): Promise<{ failures: number; violations: FuzzViolation[]; logs: number[][] }> {
  const violations: FuzzViolation[] = [];
  const logs: number[][] = [];
  let failures = 0;
  for (let k = 0; k < times; k++) {
    const { violation, schedule } = await machine.run(program, delays, plans?.(k));
    if (schedule !== undefined) logs.push(schedule.log);
    if (violation === null) continue;
    violations.push(violation);
    if (oracle === undefined || violation.oracle === oracle) failures++;
  }
  return { failures, violations, logs };
}
