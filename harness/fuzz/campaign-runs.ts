/**
 * The runs of one campaign on its machine: each counted, a controlled run's decisions metered,
 * a search run's coverage kept, and progress reported about once a second.
 */
import type { RunPlan } from '../../control/driver.ts';
import { Coverage } from './coverage.ts';
import type { FuzzMachine, RunOutcome } from './executor.ts';
import type { DelayPlan } from './injection.ts';
import type { FuzzViolation } from './oracles.ts';
import type { Program } from './program.ts';
import { ScheduleMeter } from './schedule-meter.ts';

export interface Progress {
  phase: 'search' | 'shrink';
  runs: number;
  elapsedMs: number;
  failures: number;
  coverage: Coverage;
  /** While shrinking: size of the smallest failing program so far. */
  shrunkOps?: number;
  /** Controlled mode: scheduling decisions so far. */
  decisions?: number;
}

const PROGRESS_EVERY_MS = 1000;

export class CampaignRuns {
  /** Programs run: search, shrink, schedule shrink and reproduction runs alike. */
  runs = 0;
  /** Whether the campaign has found a failure (progress says so). */
  failed = false;
  readonly coverage = new Coverage();
  readonly meter = new ScheduleMeter();
  private readonly started = performance.now();
  private nextProgress = PROGRESS_EVERY_MS;

  constructor(
    readonly machine: FuzzMachine,
    private readonly controlled: boolean,
    private readonly onProgress?: (progress: Progress) => void,
  ) {}

  elapsed(): number {
    return performance.now() - this.started;
  }

  /** One run, not counted; a controlled run's decisions go into the meter. */
  async execute(program: Program, delays: DelayPlan, plan: RunPlan | undefined): Promise<RunOutcome> {
    const started = performance.now();
    const outcome = await this.machine.run(program, delays, plan);
    this.meter.add(outcome, performance.now() - started);
    return outcome;
  }

  /** A search or shrink run: counted, its coverage kept, progress reported. */
  async search(
    program: Program,
    delays: DelayPlan,
    plan: RunPlan | undefined,
    phase: Progress['phase'],
    shrunkOps: number | undefined,
  ): Promise<FuzzViolation | null> {
    const { violation, intervals } = await this.execute(program, delays, plan);
    this.runs++;
    this.coverage.add(intervals);
    this.progress(phase, shrunkOps);
    return violation;
  }

  private progress(phase: Progress['phase'], shrunkOps: number | undefined): void {
    if (this.elapsed() < this.nextProgress) return;
    this.nextProgress = this.elapsed() + PROGRESS_EVERY_MS;
    this.onProgress?.({
      phase,
      runs: this.runs,
      elapsedMs: this.elapsed(),
      failures: this.failed ? 1 : 0,
      coverage: this.coverage,
      shrunkOps,
      decisions: this.controlled ? this.meter.decisions : undefined,
    });
  }
}
