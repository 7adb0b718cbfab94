/**
 * Shrinking under nondeterminism: the program being replaced has a measured reproduction rate
 * (failures of the same oracle per run), and a candidate replaces it only if it reproduces at
 * least as often over the same number of runs. So shrinking never trades a program for one that
 * fails less often, and a lucky failure of a candidate is not enough. An original that would
 * not reproduce at all when measured is not shrunk (rate null): its repro keeps it whole.
 */
import type { FuzzViolation } from './oracles.ts';
import type { Program } from './program.ts';

export class ShrinkState {
  first: { program: Program; violation: FuzzViolation; atMs: number; runs: number } | null = null;
  best: { program: Program; violation: FuzzViolation } | null = null;
  /** Failures per run of the current best program (free-running); null: do not shrink. */
  rate: number | null = 1;
  steps = 0;
  started = 0;

  constructor(private readonly limitMs: number) {}

  found(program: Program, violation: FuzzViolation, atMs: number, runs: number): void {
    this.first = { program, violation, atMs, runs };
    this.best = { program, violation };
    this.started = performance.now();
  }

  /** Measured the original: `failures` in `runs` more runs. */
  measured(failures: number, runs: number): void {
    this.rate = failures === 0 ? null : failures / runs;
  }

  /** Whether `failures` in `runs` is at least the rate of the program it would replace. */
  reproducesAsOften(failures: number, runs: number): boolean {
    return this.rate !== null && failures > 0 && failures / runs >= this.rate;
  }

  accept(program: Program, violation: FuzzViolation, rate?: number): void {
    this.best = { program, violation };
    if (rate !== undefined) this.rate = rate;
    this.steps++;
  }

  expired(): boolean {
    return performance.now() > this.started + this.limitMs;
  }
}
