/**
 * Interleaving coverage: which pairs of op kinds were seen in progress at the same logical time
 * on different CPUs (schedule vs kill, disable vs run, ...), counted in programs.
 */

import { triangleTable } from '../text/layout.ts';
import type { Interval } from './intervals.ts';
import { INTERVAL_KINDS, type IntervalKind } from './layout.ts';

const pairKey = (a: IntervalKind, b: IntervalKind): string => (a <= b ? `${a}|${b}` : `${b}|${a}`);

/** Pairs of kinds overlapping on different CPUs in one run. */
export function overlappingPairs(intervals: Interval[]): Set<string> {
  const pairs = new Set<string>();
  for (let x = 0; x < intervals.length; x++) {
    const a = intervals[x];
    for (let y = x + 1; y < intervals.length; y++) {
      const b = intervals[y];
      if (a.cpu !== b.cpu && a.start < b.end && b.start < a.end) pairs.add(pairKey(a.kind, b.kind));
    }
  }
  return pairs;
}

export class Coverage {
  /** pair → programs in which it was seen. */
  readonly seen = new Map<string, number>();
  /** New pairs each run added, most recent last. */
  private readonly added: number[] = [];

  add(intervals: Interval[]): number {
    let fresh = 0;
    for (const pair of overlappingPairs(intervals)) {
      const n = this.seen.get(pair) ?? 0;
      if (n === 0) fresh++;
      this.seen.set(pair, n + 1);
    }
    this.added.push(fresh);
    return fresh;
  }

  /** What crosses a thread (a fuzz job's result): the counts and the per-run additions. */
  toJSON(): { seen: [string, number][]; added: number[] } {
    return { seen: [...this.seen], added: [...this.added] };
  }

  /** Adds another campaign's coverage (a parallel job's) to this one. */
  merge(other: { seen: [string, number][]; added: number[] }): void {
    for (const [pair, n] of other.seen) this.seen.set(pair, (this.seen.get(pair) ?? 0) + n);
    // New pairs of the other's runs, as seen from this campaign: counted once, overall.
    for (const fresh of other.added) this.added.push(fresh);
  }

  get runs(): number {
    return this.added.length;
  }

  /** New pairs the last `n` runs added. */
  recentlyAdded(n: number): number {
    return this.added.slice(-n).reduce((s, k) => s + k, 0);
  }

  static readonly possible = (INTERVAL_KINDS.length * (INTERVAL_KINDS.length + 1)) / 2;

  /** A triangle of counts: rows and columns are op kinds; '.' is a pair never seen. */
  table(): string {
    const kinds = INTERVAL_KINDS.filter((k) => [...this.seen.keys()].some((p) => p.split('|').includes(k)));
    if (kinds.length === 0) return '  (no overlapping ops seen)';
    const short = (k: string): string => k.replace('disable_', 'dis_').replace('hi_schedule', 'hi_sched');
    return triangleTable({
      labels: kinds.map(short),
      cellWidth: 9,
      cell: (r, c) => String(this.seen.get(pairKey(kinds[r], kinds[c])) ?? '.'),
    }).join('\n');
  }

  summary(window: number): string {
    return `${this.seen.size}/${Coverage.possible} op-kind pairs seen overlapping; the last ${Math.min(window, this.runs)} runs added ${this.recentlyAdded(window)}`;
  }
}
