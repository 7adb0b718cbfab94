/**
 * Shrinking under nondeterminism: a candidate counts as failing when it fails (the same oracle)
 * in at least `need` of its runs: two if the original failed in most of its runs, else one.
 * So shrinking keeps programs that fail about as reliably, and drops lucky ones.
 */
import type { FuzzViolation } from './oracles.ts';
import type { Program } from './program.ts';

export class ShrinkState {
  first: { program: Program; violation: FuzzViolation; atMs: number; runs: number } | null = null;
  best: { program: Program; violation: FuzzViolation } | null = null;
  need = 1;
  steps = 0;
  started = 0;

  constructor(private readonly limitMs: number) {}

  found(program: Program, violation: FuzzViolation, atMs: number, runs: number): void {
    this.first = { program, violation, atMs, runs };
    this.best = { program, violation };
    this.started = performance.now();
  }

  /** An original that fails more often than not: candidates must fail twice, not once by luck. */
  calibrate(reliable: boolean): void {
    this.need = reliable ? 2 : 1;
  }

  accept(program: Program, violation: FuzzViolation): void {
    this.best = { program, violation };
    this.steps++;
  }

  expired(): boolean {
    return performance.now() > this.started + this.limitMs;
  }
}
