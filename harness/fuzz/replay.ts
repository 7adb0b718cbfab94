/** Runs a repro file's program again, on a machine like the one it failed on. */
import { reproduce } from './campaign.ts';
import { FuzzMachine } from './executor.ts';
import type { FuzzViolation } from './oracles.ts';
import type { ReproFile } from './repro.ts';

export interface ReplayResult {
  times: number;
  /** Runs that broke the same oracle as the file records. */
  reproduced: number;
  /** Runs that broke another oracle. */
  other: FuzzViolation[];
  first: FuzzViolation | null;
}

export async function replay(repro: ReproFile, times: number): Promise<ReplayResult> {
  const machine = new FuzzMachine({ cpus: repro.cpus, inject: repro.inject ?? undefined });
  try {
    const { failures, violations } = await reproduce(
      machine,
      repro.program,
      repro.delays,
      times,
      repro.violation.oracle,
    );
    return {
      times,
      reproduced: failures,
      other: violations.filter((v) => v.oracle !== repro.violation.oracle),
      first: violations.find((v) => v.oracle === repro.violation.oracle) ?? null,
    };
  } finally {
    await machine.shutdown();
  }
}
