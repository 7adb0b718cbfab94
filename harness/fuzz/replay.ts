/**
 * Runs a repro file's program again, on a machine like the one it failed on. A controlled
 * failure replays its decision log: the same execution every time, and each run's log is
 * compared with the file's. A free-running failure can also be run under the controlled
 * scheduler, one seed per run, to look for a schedule that reproduces it.
 */
import type { ControlledOptions, RunPlan } from '../../control/driver.ts';
import { FuzzMachine } from './executor.ts';
import type { FuzzViolation } from './oracles.ts';
import type { ReproFile } from './repro.ts';
import { reproduce } from './reproduce.ts';

export interface ReplayResult {
  times: number;
  /** Runs that broke the same oracle as the file records. */
  reproduced: number;
  /** Runs that broke another oracle. */
  other: FuzzViolation[];
  first: FuzzViolation | null;
  /** Replay of a controlled failure: runs whose decision log equals the file's. */
  exact: number | null;
  /** How the runs were scheduled. */
  mode: 'parallel' | 'replay-log' | 'controlled';
}

export async function replay(
  repro: ReproFile,
  times: number,
  controlled?: ControlledOptions,
): Promise<ReplayResult> {
  const schedule = repro.schedule;
  const options: ControlledOptions | undefined = schedule ?? controlled;
  let plans: ((k: number) => RunPlan) | undefined;
  if (schedule !== null) plans = () => ({ ...schedule, replay: schedule.log });
  else if (controlled !== undefined) plans = (k) => ({ ...controlled, seed: (controlled.seed + k) >>> 0 });
  const machine = new FuzzMachine({
    cpus: repro.cpus,
    inject: repro.inject ?? undefined,
    controlled: options,
  });
  try {
    const { failures, violations, logs } = await reproduce(
      machine,
      repro.program,
      repro.delays,
      times,
      repro.violation.oracle,
      plans,
    );
    const expected = schedule === null ? null : JSON.stringify(schedule.log);
    return {
      times,
      reproduced: failures,
      other: violations.filter((v) => v.oracle !== repro.violation.oracle),
      first: violations.find((v) => v.oracle === repro.violation.oracle) ?? null,
      exact: expected === null ? null : logs.filter((log) => JSON.stringify(log) === expected).length,
      mode: schedule !== null ? 'replay-log' : controlled !== undefined ? 'controlled' : 'parallel',
    };
  } finally {
    await machine.shutdown();
  }
}
