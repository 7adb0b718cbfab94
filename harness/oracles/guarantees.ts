/**
 * The oracle library's vocabulary: each oracle by name and the guarantee of docs/semantics.md
 * (G1-G15, T1-T6, W1-W5) it checks, and the violation an oracle returns. Stress and fuzz report in these terms.
 *
 * What lives in harness/oracles/: the shadow record (shadow.ts) and the pure checks over it
 * (run-checks.ts, call-checks.ts, drain-checks.ts), which run on the CPUs and on the
 * controller alike; and the controller's side (drain.ts, findings.ts), which reads the machine
 * through machine/view.ts. CPU-side code imports only the first group.
 */
export const ORACLES = {
  'mutual-exclusion': 1,
  coalescing: 2,
  'schedule-while-running': 3,
  'at-least-once': 4,
  locality: 5,
  'one-run-per-pass': 6,
  order: 7,
  fifo: 7,
  disabled: 8,
  'disable-waits': 9,
  kill: 10,
  structure: 11,
  'queued-without-sched': 12,
  'pass-bounds': 13,
  context: 14,
  trace: 15,
  // Kernel timers (T1-T6, docs/semantics.md §8) and BH workqueues (W1-W5, §10): numbered 100 + n
  // and 200 + n, so that one number still names one guarantee (guaranteeLabel prints them).
  'timer-reentrant': 101,
  'timer-early': 102,
  'timer-del-sync': 103,
  'timer-fires': 104,
  'timer-takeover': 105,
  'timer-pending': 106,
  'work-reentrant': 201,
  'work-cancel-sync': 202,
  'work-flush': 203,
  'work-disabled': 204,
  'work-runs': 205,
  'work-order': 205,
  /** A kernel report (BUG:, WARNING, WARN_ONCE, pr_err) the workload did not provoke: no one guarantee. */
  'kernel-report': 0,
} as const;

/** G7, T2, W4: how docs/semantics.md names guarantee number `n` ('' for 0, the kernel report). */
export function guaranteeLabel(n: number): string {
  if (n === 0) return '';
  if (n > 200) return `W${n - 200}`;
  if (n > 100) return `T${n - 100}`;
  return `G${n}`;
}

export type OracleName = keyof typeof ORACLES;
export const ORACLE_NAMES = Object.keys(ORACLES) as OracleName[];

export interface Violation {
  oracle: OracleName;
  guarantee: number;
  /** The harness's tasklet index (stress index, fuzz program tasklet), not the runtime id; -1: the machine. */
  tasklet: number;
  cpus: number[];
  message: string;
}

export function violation(oracle: OracleName, tasklet: number, cpus: number[], message: string): Violation {
  return { oracle, guarantee: ORACLES[oracle], tasklet, cpus, message };
}
