/**
 * Stress interleaving coverage, kept by the workload on the CPUs: which API entry points ran,
 * and which pairs of them were in progress at once on different CPUs (process context,
 * softirq and hard interrupt each a slot per CPU). The controller prints the table.
 */
import { triangleTable, wrapText } from '../text/layout.ts';

export const COVERAGE_KINDS = [
  'schedule',
  'hi_schedule',
  'run',
  'disable',
  'disable_nosync',
  'disable_in_atomic',
  'enable',
  'kill',
  'racing_kill',
  'kill_pair',
  'irq_disable',
  'trylock',
  'unlock_wait',
  'setup',
  'init_old',
  'fifo',
  'no_sched',
  'spin',
  'coalesce',
  'pair',
  'add_timer',
  'add_timer_on',
  'mod_timer',
  'mod_timer_pending',
  'del_timer',
  'del_timer_sync',
  'timer_run',
  'queue_work',
  'queue_work_on',
  'flush_work',
  'cancel_work',
  'cancel_work_sync',
  'disable_work',
  'disable_work_sync',
  'enable_work',
  'work_run',
] as const;
export type CoverageKind = (typeof COVERAGE_KINDS)[number];

const K = COVERAGE_KINDS.length;
/** Per CPU three slots (process, softirq, hardirq), then per-kind counts, then the K×K matrix. */
export const COV_SLOTS = 0;
export const COV_COUNTS = 64 * 3;
export const COV_PAIRS = COV_COUNTS + K;
export const COVERAGE_WORDS = COV_PAIRS + K * K;

export enum Slot {
  Process = 0,
  Softirq = 1,
  Hardirq = 2,
}

export const kindIndex = (kind: CoverageKind): number => COVERAGE_KINDS.indexOf(kind);

/** An op of `kind` begins on `cpu` in `slot`: counted, and paired with what other CPUs have in progress. */
export function cov_begin(cov: Int32Array, cpus: number, cpu: number, slot: Slot, kind: number): void {
  Atomics.store(cov, COV_SLOTS + cpu * 3 + slot, kind + 1);
  Atomics.add(cov, COV_COUNTS + kind, 1);
  for (let other = 0; other < cpus; other++) {
    if (other === cpu) continue;
    for (let s = 0; s < 3; s++) {
      const k = Atomics.load(cov, COV_SLOTS + other * 3 + s) - 1;
      if (k < 0) continue;
      const [a, b] = k < kind ? [k, kind] : [kind, k];
      Atomics.add(cov, COV_PAIRS + a * K + b, 1);
    }
  }
}

export function cov_end(cov: Int32Array, cpu: number, slot: Slot): void {
  Atomics.store(cov, COV_SLOTS + cpu * 3 + slot, 0);
}

export interface StressCoverage {
  counts: Record<string, number>;
  /** "a|b" → times seen overlapping. */
  pairs: Record<string, number>;
  /** Entry points never called, pairs never seen. */
  missingKinds: string[];
  pairsSeen: number;
  pairsPossible: number;
}

export function readCoverage(cov: Int32Array): StressCoverage {
  const counts: Record<string, number> = {};
  const pairs: Record<string, number> = {};
  COVERAGE_KINDS.forEach((k, i) => {
    counts[k] = Atomics.load(cov, COV_COUNTS + i);
  });
  let seen = 0;
  for (let a = 0; a < K; a++) {
    for (let b = a; b < K; b++) {
      const n = Atomics.load(cov, COV_PAIRS + a * K + b);
      if (n > 0) {
        pairs[`${COVERAGE_KINDS[a]}|${COVERAGE_KINDS[b]}`] = n;
        seen++;
      }
    }
  }
  return {
    counts,
    pairs,
    missingKinds: COVERAGE_KINDS.filter((k) => counts[k] === 0),
    pairsSeen: seen,
    pairsPossible: (K * (K + 1)) / 2,
  };
}

/** The coverage of several runs together (stress --jobs): counts and overlaps add up. */
export function mergeCoverage(all: StressCoverage[]): StressCoverage {
  const counts: Record<string, number> = {};
  const pairs: Record<string, number> = {};
  for (const c of all) {
    for (const [k, n] of Object.entries(c.counts)) counts[k] = (counts[k] ?? 0) + n;
    for (const [k, n] of Object.entries(c.pairs)) pairs[k] = (pairs[k] ?? 0) + n;
  }
  return {
    counts,
    pairs,
    missingKinds: COVERAGE_KINDS.filter((k) => (counts[k] ?? 0) === 0),
    pairsSeen: Object.keys(pairs).length,
    pairsPossible: (K * (K + 1)) / 2,
  };
}

const compact = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n);

/** The triangle of overlap counts ('.' never seen), then the entry-point counts. */
export function coverageTable(c: StressCoverage): string {
  const short = (k: string): string =>
    k.replace('disable_', 'dis_').replace('hi_schedule', 'hi_sched').replace('racing_kill', 'race_kill');
  const lines = triangleTable({
    labels: COVERAGE_KINDS.map(short),
    cellWidth: 7,
    cell: (r, k) => {
      const n = c.pairs[`${COVERAGE_KINDS[r]}|${COVERAGE_KINDS[k]}`] ?? 0;
      return n === 0 ? '.' : compact(n);
    },
  });
  lines.push(
    ...wrapText(`entry points: ${COVERAGE_KINDS.map((k) => `${k} ${compact(c.counts[k])}`).join(', ')}`),
    ...wrapText(
      `${c.pairsSeen}/${c.pairsPossible} pairs seen in progress at once on different CPUs${
        c.missingKinds.length > 0 ? `; never called: ${c.missingKinds.join(', ')}` : ''
      }`,
    ),
  );
  return lines.join('\n');
}
