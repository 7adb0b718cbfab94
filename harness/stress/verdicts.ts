/**
 * What a stress run has found so far (violations, faults, oopses), and the stop signal the
 * first of them raises: a run ends at its first violation or fault.
 */
import type { OopsReport } from '../../machine/index.ts';
import type { Violation } from '../oracles/guarantees.ts';
import type { RecentEvent } from '../oracles/shadow.ts';
import type { RunClock } from './clock.ts';
import type { ViolationReport } from './result.ts';

/** Raised once; wakes the main loop's wall-clock sleep so that the run ends at once. */
export class StopSignal {
  stopping = false;
  private wake: () => void = () => {};

  stop(): void {
    this.stopping = true;
    this.wake();
  }

  /** Sleeps `ms` of wall-clock time, or until stop(). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** A violation as a CPU reports it (with its name and events) or as the controller finds it. */
export type FoundViolation = Violation & { name?: string; events?: RecentEvent[]; machineMs?: number };

export class Verdicts {
  readonly violations: ViolationReport[] = [];
  readonly faults: string[] = [];
  readonly oopses: OopsReport[] = [];

  constructor(
    private readonly stop: StopSignal,
    private readonly clock: RunClock,
    /** The shadow's recent events of a stress tasklet (once the workload is set up). */
    private readonly recentEvents: (i: number) => RecentEvent[],
  ) {}

  violation(v: FoundViolation): void {
    const events = v.events ?? (v.tasklet >= 0 ? this.recentEvents(v.tasklet) : []);
    this.violations.push({
      ...v,
      name: v.name ?? (v.tasklet >= 0 ? `stress${v.tasklet}` : ''),
      events,
      atMs: this.clock.elapsed(),
    });
    this.stop.stop();
  }

  fault(message: string): void {
    this.faults.push(message);
    this.stop.stop();
  }

  /** An oops is a fault, unless the run carries on after oopses (then it is counted only). */
  oops(oops: OopsReport, carryOn: boolean): void {
    this.oopses.push(oops);
    if (carryOn) return;
    this.fault(`Oops on CPU${oops.cpu} in ${oops.context} (${oops.culprit}): ${oops.message}`);
  }
}
