/** Running totals of a controlled campaign's scheduling (PCT's k is the mean run length). */
import { DEFAULT_EXPECTED_STEPS } from '../../control/driver.ts';
import type { RunOutcome } from './executor.ts';

/** Controlled mode: how much scheduling the campaign did. */
export interface ScheduleTotals {
  decisions: number;
  /** Decisions per second of time spent running programs. */
  decisionsPerSecond: number;
  /** Mean decisions per run: PCT's k. */
  meanSteps: number;
}

export class ScheduleMeter {
  decisions = 0;
  busyMs = 0;

  /** Runs that passed: a hung run's length is its time limit, not the program's. */
  private passingRuns = 0;
  private passingDecisions = 0;

  add(outcome: RunOutcome, ms: number): void {
    if (outcome.schedule === undefined) return;
    this.decisions += outcome.schedule.steps;
    this.busyMs += ms;
    if (outcome.violation !== null) return;
    this.passingRuns++;
    this.passingDecisions += outcome.schedule.steps;
  }

  get meanSteps(): number {
    return this.passingRuns === 0 ? DEFAULT_EXPECTED_STEPS : this.passingDecisions / this.passingRuns;
  }

  totals(): ScheduleTotals {
    return {
      decisions: this.decisions,
      decisionsPerSecond: this.decisions / Math.max(this.busyMs / 1000, 1e-3),
      meanSteps: this.meanSteps,
    };
  }
}
