/**
 * The one drain routine of stress and fuzz: wait, in machine time, until the harness's tasklets
 * are idle (nothing queued, nothing running, nothing in flight), within a bound; if they do not
 * get there, say why: no progress, a finding that stays, or time up. The callers report what
 * is stuck with the machine view (findings.ts).
 */
import { wholeUs } from '../../shm/clock.ts';

/** Machine time: virtual in controlled mode, where sleeping is what lets the CPUs run. */
export interface MachineClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Like `sleep`, but ends early when a CPU goes idle (Machine.awaitCpuEvent). */
  awaitCpuEvent?(ms: number): Promise<void>;
}

export interface DrainWatch<F> {
  clock: MachineClock;
  /** Whether the machine has drained (read as a CPU goes idle, at least once a millisecond). */
  idle(): boolean;
  /** Give up after this long in all. */
  timeoutMs: number;
  /** Stop waiting at once (a fault, or a violation already reported). */
  abandon?(): boolean;
  /** Give up when `count()` (say, tasklet runs) has not moved for `stallMs`. */
  progress?: { count(): number; stallMs: number };
  /** Give up when `find()` has returned the same finding (by `key`) for longer than `forMs`. */
  stuck?: { find(): F | null; key(finding: F): string; forMs: number };
}

export type DrainResult<F> =
  | { status: 'idle' }
  | { status: 'abandoned' }
  | { status: 'stalled' }
  | { status: 'stuck'; finding: F }
  /** `finding`: what `stuck` found at the deadline, not yet for long. */
  | { status: 'timeout'; finding: F | null };

export async function drain<F>(watch: DrainWatch<F>): Promise<DrainResult<F>> {
  const { clock, progress, stuck } = watch;
  // Whole microseconds (shm/clock.ts): a controlled drain must end alike at any absolute time.
  const now = (): number => wholeUs(clock.now());
  const deadline = now() + wholeUs(watch.timeoutMs);
  let count = progress?.count() ?? 0;
  let progressAt = now();
  let standing: { since: number; key: string } | null = null;
  while (!watch.idle()) {
    if (watch.abandon?.()) return { status: 'abandoned' };
    const at = now();
    if (progress !== undefined) {
      const latest = progress.count();
      if (latest !== count) {
        count = latest;
        progressAt = at;
      }
      if (at - progressAt > wholeUs(progress.stallMs)) return { status: 'stalled' };
    }
    const found = stuck?.find() ?? null;
    if (found === null) standing = null;
    else {
      const key = stuck!.key(found);
      if (standing === null || standing.key !== key) standing = { since: at, key };
      if (at - standing.since > wholeUs(stuck!.forMs)) return { status: 'stuck', finding: found };
    }
    if (at > deadline) return { status: 'timeout', finding: found };
    await (clock.awaitCpuEvent?.(1) ?? clock.sleep(1));
  }
  return { status: 'idle' };
}
