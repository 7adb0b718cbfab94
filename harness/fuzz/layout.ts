/**
 * The fuzz module's shared words, besides the oracles' shadow records (harness/oracles/shadow.ts,
 * indexed by program tasklet number). The controller reads and resets them between programs.
 */
import { shadowWords } from '../oracles/shadow.ts';
import { MAX_TASKLETS, TIMER_OPS, WORK_OPS } from './program.ts';

export const FUZZ_MAX_CPUS = 8;
export const SHADOW_NAME = 'fuzz-shadow';
export const WORDS_NAME = 'fuzz-words';
export const FUZZ_SHADOW_WORDS = shadowWords(MAX_TASKLETS);

// Globals.
export const W_ACTIVE = 0; // 1 while a program runs: delay injection on
export const W_DELAY_SEED = 1;
export const W_DELAY_PERMILLE = 2; // chance per shared access, in 1/1000
export const W_DELAY_MAX_US = 3;
export const W_CLOCK = 4; // logical clock: every op start and end takes a tick
export const W_ARRIVED = 5; // start barrier
export const W_THREADS = 6;
export const W_VIOLATIONS = 7;
export const W_NR_TASKLETS = 8;
export const W_GENERATION = 9; // the program's number on this machine: a report carries it
export const W_ORPHANS = 10; // tasklets this program left queued without SCHED on purpose (G12)
export const W_RACE_ARRIVED = 11; // CPUs that have reached the program's race point
export const W_SETUP_WARNINGS = 12; // the kernel's warning count as the setup ended: the program's own count from there
export const W_IDS = 16; // MAX_TASKLETS runtime tasklet ids
export const W_EXTRA = W_IDS + MAX_TASKLETS; // per tasklet: X_* words
export const X_ORDER_FIRST = 0; // HI tasklet index + 1 that must start before this one's next run
export const X_ORDER_RUNS = 1; // its run count when the order was recorded
export const X_BUSY_US = 2;
export const X_RESCHED_HI = 3;
export const X_KILL_SEQ = 4; // kills started
export const X_KILLS_IN_FLIGHT = 5;
export const X_KILL_COVERED = 6; // schedule number up to which kills swallowed schedules (see on_kill_covers)
export const X_FIFO_SEQ = 7; // its place in the model of its owner's queue (see fifo.ts), 0 none
export const X_FIFO_QUEUE = 8; // that queue: cpu * 2 + hi + 1
export const X_FIFO_EPOCH = 9; // the owner's offline count then
export const X_HELD = 10; // disables its owner thread holds: raised before each disable call, lowered after each enable
export const X_LAST_RUN_CPU = 11; // CPU + 1 of its last run start
export const X_PROBE_OF = 12; // orphaned tasklet + 1 this one was queued behind (see the orphan op)
export const X_ORPHAN_SEQ = 13; // its schedule count when it was orphaned
export const X_ORPHAN_KILLS = 14; // its kill count then, + 1 (nonzero: orphaned in this program)
export const X_STRIDE = 15;
export const W_MAILBOX = W_EXTRA + MAX_TASKLETS * X_STRIDE; // [target cpu][tasklet][hi]: schedules asked of the irq
export const W_HOTPLUG = W_MAILBOX + FUZZ_MAX_CPUS * MAX_TASKLETS * 2; // per CPU: offline/online cycles asked
export const W_FIFO = W_HOTPLUG + FUZZ_MAX_CPUS; // per CPU and vector: places handed out in its queue
export const W_FIFO_LIST_END = W_FIFO + FUZZ_MAX_CPUS * 2; // per CPU and vector: the last place in the running pass's list
export const W_LOG_LEN = W_FIFO_LIST_END + FUZZ_MAX_CPUS * 2; // per CPU: op intervals recorded
export const LOG_CAPACITY = 256;
export const LOG_RECORD = 3; // kind, start tick, end tick
export const W_LOG = W_LOG_LEN + FUZZ_MAX_CPUS;
export const FUZZ_WORDS = W_LOG + FUZZ_MAX_CPUS * LOG_CAPACITY * LOG_RECORD;

export const xw = (i: number, field: number): number => W_EXTRA + i * X_STRIDE + field;
export const mailbox = (cpu: number, t: number, hi: boolean): number =>
  W_MAILBOX + (cpu * MAX_TASKLETS + t) * 2 + (hi ? 1 : 0);

/** Kinds of recorded intervals (the coverage table's rows and columns). */
export const INTERVAL_KINDS = [
  'schedule',
  'hi_schedule',
  'disable',
  'disable_nosync',
  'disable_in_atomic',
  'enable',
  'kill',
  'init',
  'irq',
  'run',
  'irqsave',
  'bh',
  'hotplug',
  ...WORK_OPS,
  'work_run',
  ...TIMER_OPS,
  'timer_run',
] as const;
export type IntervalKind = (typeof INTERVAL_KINDS)[number];
export const kindCode = (kind: IntervalKind): number => INTERVAL_KINDS.indexOf(kind) + 1;

/** The fuzz interrupt line (the stress workload uses the first device lines). */
export const FUZZ_IRQ = 8;
