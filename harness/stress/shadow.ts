/**
 * The stress workload's shared words: the oracles' per-tasklet records
 * (harness/oracles/shadow.ts) behind a header of the workload's own globals, laid out here.
 */
import { SHADOW_HEADER_WORDS, shadowWords } from '../oracles/shadow.ts';

export const MAX_STRESS_TASKLETS = 1024;
/** Private tasklets per CPU, besides its HI/normal ordering pair. */
export const PRIVATE_PER_CPU = 4;

// Global words, inside the shadow's header.
export const S_PHASE = 0; // Phase
export const S_EPOCH = 1; // drain epoch number
export const S_VIOLATIONS = 2;
export const S_NR_TASKLETS = 3;
export const S_FIRST_ID = 4; // tasklet id of stress tasklet 0 (they are contiguous)
export const S_SEED = 5;
export const S_DELAY_US = 6;
export const S_RESCHED_PCT = 7;
export const S_BURST = 8;
export const S_ORACLES = 9; // 1: oracles on
export const S_G12_OPEN = 10; // CPU + 1 while it has a tasklet queued without SCHED on purpose
export const S_G12_WARNED = 11; // 'tasklet SCHED state not set' warnings printed while one was open
export const S_G12_DONE = 12; // such provocations whose probe ran (the queue was processed)
export const S_REPORTS = 13; // kernel reports (printk warning and worse) the CPUs saw
export const S_DRAIN_ACK = 16; // per CPU: epoch the CPU's task has drained for
export const S_OPS = S_DRAIN_ACK + 64; // per CPU op counters: OPS_PER_CPU words each
export const OPS_PER_CPU = 8;
/** Where the per-tasklet records start: the globals above fill the header exactly. */
export const S_TASKLETS = S_OPS + 64 * OPS_PER_CPU;
if (S_TASKLETS !== SHADOW_HEADER_WORDS) throw new Error('the stress globals must fill the shadow header');

export const SHADOW_WORDS = shadowWords(MAX_STRESS_TASKLETS);

export enum Phase {
  Run = 0,
  Drain = 1,
  Stop = 2,
}

/** Per-CPU op counters (S_OPS + cpu * OPS_PER_CPU + n). */
export enum OpCounter {
  Schedules = 0,
  Irqs = 1,
  Disables = 2,
  Kills = 3,
  Sections = 4,
  Episodes = 5,
  /** Not a counter: the last position of this CPU's FIFO episode that ran. */
  FifoProgress = 7,
}
