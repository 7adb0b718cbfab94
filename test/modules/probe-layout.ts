/**
 * Where the probe module keeps its shared words. Plain constants, importable from the controller
 * thread (the probe module itself claims shared memory and may only be loaded with a machine).
 *
 * The probe module is the first module to claim shared words, so its block starts at the
 * machine's module base: tests read it directly through `probeWords(machine)` (test/helpers.ts).
 */

/** Static tasklets: probe0..probe14 (DECLARE_TASKLET), probe15 (DECLARE_TASKLET_DISABLED),
 * probe16 (DECLARE_TASKLET_OLD), probe17 (DECLARE_TASKLET_DISABLED_OLD). */
export const PROBES = 18;
export const PROBE_DISABLED = 15;
export const PROBE_OLD = 16;
export const PROBE_OLD_DISABLED = 17;

/** Per-tasklet words (index = tasklet id). */
export const F_RUNS = 0;
export const F_LAST_CPU = 1;
export const F_INSIDE = 2; // CPU + 1 while the callback runs
export const F_OVERLAPS = 3; // runs that found another CPU inside
export const F_CONTEXT = 4; // bits of the last run: see CTX_*
export const F_DELAY_US = 5; // busy time per run
export const F_RESCHEDULE = 6; // self-reschedules left
export const F_RESCHEDULE_HI = 7;
export const F_SEQ = 8; // global order number of the last run
export const F_DATA = 9; // data seen by the old-style func
export const F_CPU_MASK = 10; // CPUs it ran on
export const F_CHAIN = 11; // id + 1 of a tasklet to schedule (once) from the next run
export const F_PASS_CPU = 12; // CPU + 1 of the last run's softirq pass
export const F_PASS = 13; // that CPU's HI+TASKLET softirq count at the last run (one value per action call)
export const F_SAME_PASS = 14; // runs that happened in the same tasklet_action call as the previous run
export const F_TRACE_ENTRIES = 15; // tasklet_entry tracepoint hits
export const F_TRACE_EXITS = 16; // tasklet_exit tracepoint hits
export const F_PID = 17; // current()->pid at the last run
export const F_CHAIN_HI = 18; // 1: F_CHAIN schedules with tasklet_hi_schedule
export const F_UNLOCK = 19; // id + 1 of a tasklet whose RUN bit the next run releases (tasklet_unlock)
export const FIELDS = 20;

export const CTX_SERVING = 1;
export const CTX_INTERRUPT = 2;
export const CTX_HARDIRQ = 4;
export const CTX_SOFTIRQ = 8;
export const CTX_TASK = 16;

export const field = (id: number, f: number): number => id * FIELDS + f;

/** Global words after the per-tasklet block. */
const G = PROBES * FIELDS;
export const W_SEQ = G + 0;
export const W_INJ_OP = G + 1; // what the probe irq does: 0 nothing, 1 schedule, 2 hi_schedule
export const W_INJ_ID = G + 2; // tasklet the probe irq schedules
export const W_INJ_DONE = G + 3; // set by the probe irq handler
export const W_RELEASE = G + 4; // hold tasks leave their bh-disabled section when non-zero
export const W_HOLDERS = G + 5; // hold tasks inside their section
export const W_BLOCK_RUNS = G + 6; // runs of the probe's BLOCK_SOFTIRQ action
export const W_BLOCK_CTX = G + 7;
export const W_BLOCK_PID = G + 8;
export const W_BLOCK_CPU = G + 9;
export const W_DYN_RUNS = G + 10; // runs of dyn_func (run-time tasklets)
export const W_DYN_DATA = G + 11; // data of its last run
export const W_LOG_LEN = G + 12;
/** Set when an injection into another CPU timed out: its irq ran late, not at the access (a starved host). */
export const W_INJ_LATE = G + 13;
/** Per CPU: hard irqs that did not interrupt a softirq (each may run one softirq invocation on exit). */
export const W_IRQ_GEN = G + 16;
/** Run log: LOG_MAX records of LOG_REC words (id, cpu, pid, ctx, irq generation, pass). */
export const W_LOG = W_IRQ_GEN + 64;
export const LOG_MAX = 256;
export const LOG_REC = 6;
export const PROBE_WORDS = W_LOG + LOG_MAX * LOG_REC;

/** The hard interrupt line the probe module requests (its handler does W_INJ_OP). */
export const PROBE_IRQ = 5;

export interface RunRecord {
  id: number;
  cpu: number;
  pid: number;
  ctx: number;
  /** The CPU's W_IRQ_GEN at the run: runs on irq exit with equal values share one invocation. */
  irqGen: number;
  pass: number;
}
