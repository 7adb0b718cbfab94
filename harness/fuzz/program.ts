/**
 * A fuzz program: a few tasklets and, per CPU, a sequence of operations on them. Programs are
 * plain JSON (they go into repro files and across to the CPUs as a task argument). Besides the
 * tasklets, ops use a fixed set of BH work items and timers (bh-layout.ts).
 */
import type { IrqBhCall } from './bh-layout.ts';

/** How a tasklet may be used, so that every program terminates (see normalize.ts). */
export type TaskletMode =
  /** Any CPU schedules, disables and enables it; nobody kills it (a kill could wait forever). */
  | 'shared-disable'
  /** Any CPU schedules and kills it; nobody disables it. */
  | 'shared-kill'
  /** Only its owner CPU touches it (and interrupts taken there): every op is allowed. */
  | 'private';

export interface TaskletSpec {
  mode: TaskletMode;
  /** Owner CPU of a private tasklet; ignored otherwise. */
  owner: number;
  /** How many times, over the whole program, the callback reschedules itself. */
  resched: number;
  /** The self-reschedule uses tasklet_hi_schedule. */
  reschedHi: boolean;
  /** Busy delay inside the callback, in microseconds (widens run windows). */
  busyUs: number;
}

export type TaskletOpName =
  | 'schedule'
  | 'hi_schedule'
  | 'disable'
  | 'disable_nosync'
  | 'disable_in_atomic'
  | 'enable'
  | 'kill'
  | 'init';

export const TASKLET_OPS: readonly TaskletOpName[] = [
  'schedule',
  'hi_schedule',
  'disable',
  'disable_nosync',
  'disable_in_atomic',
  'enable',
  'kill',
  'init',
];

export const DISABLES: readonly TaskletOpName[] = ['disable', 'disable_nosync', 'disable_in_atomic'];
/** Ops that may sleep: never inside an irq-save or bh-disable section. */
export const SLEEPING: readonly TaskletOpName[] = ['disable', 'kill', 'init'];

export const WORK_OPS = [
  'queue_work',
  'queue_work_on',
  'flush_work',
  'cancel_work_sync',
  'disable_work',
  'disable_work_sync',
  'enable_work',
] as const;
export type WorkOpName = (typeof WORK_OPS)[number];
export const TIMER_OPS = [
  'mod_timer',
  'mod_timer_pending',
  'add_timer_on',
  'del_timer',
  'del_timer_sync',
] as const;
export type TimerOpName = (typeof TIMER_OPS)[number];
/** Timer and work ops that wait for a callback (add_timer_on starts with del_timer_sync): never in a section. */
export const BH_SLEEPING: readonly Op['op'][] = [
  'flush_work',
  'cancel_work_sync',
  'disable_work_sync',
  'del_timer_sync',
  'add_timer_on',
];

/** Work item `w` and timer `x` of harness/fuzz/bh-layout.ts's fixed set. */
export type BhOp =
  | { op: 'queue_work_on'; w: number; cpu: number }
  | { op: Exclude<WorkOpName, 'queue_work_on'>; w: number }
  /** Expiry `ticks` jiffies ahead; the callback re-arms itself up to `rearm` times (shared timers). */
  | { op: 'mod_timer'; x: number; ticks: number; rearm: number }
  | { op: 'mod_timer_pending'; x: number; ticks: number }
  /** del_timer_sync, then add_timer_on onto `cpu` (private timers: nobody else arms them). */
  | { op: 'add_timer_on'; x: number; cpu: number; ticks: number }
  | { op: 'del_timer' | 'del_timer_sync'; x: number }
  /** Raise the fuzz interrupt on `cpu`; its handler calls `call` on work item or shared timer `n`. */
  | { op: 'irq_bh'; cpu: number; call: IrqBhCall; n: number; at: number };

export const isBhOp = (op: Op): op is BhOp => 'w' in op || 'x' in op || op.op === 'irq_bh';

export type Op =
  | BhOp
  | { op: TaskletOpName; t: number }
  /** Raise the fuzz interrupt on `cpu`; its handler schedules `t`. On this CPU it arrives at
   * the `at`-th shared-memory access of the next op (1: right away). */
  | { op: 'irq'; cpu: number; t: number; hi: boolean; at: number }
  | { op: 'delay'; us: number }
  /** Ask the controller to take `cpu` offline and bring it back. */
  | { op: 'hotplug'; cpu: number }
  /** G12 on purpose: queue private `t`, re-initialise it (SCHED cleared, the entry stays), queue
   * private `probe` behind it, all with interrupts off: the pass must skip `t` with a warning. */
  | { op: 'orphan'; t: number; probe: number; hi: boolean }
  /** Queue private `t` so that its callback re-queues it SPINNER_RESCHED more times (on the same
   * vector): a pacer, an entry that gets ahead of the ones each pass puts back (FIFO, G7). */
  | { op: 'pace'; t: number; hi: boolean }
  | { op: 'irqsave' | 'bh'; body: Op[] }
  /** A race point: each CPU waits here (a while at most) until every CPU has come, so the ops
   * right after it start together; a program has at most one, outside sections. */
  | { op: 'race' };

export type SectionOp = Extract<Op, { body: Op[] }>;

export interface Program {
  cpus: number;
  tasklets: TaskletSpec[];
  /** One op sequence per CPU. */
  threads: Op[][];
}

export const MAX_TASKLETS = 4;
export const MAX_OPS_PER_THREAD = 14;
export const MAX_SECTION_OPS = 4;
export const MAX_BUSY_US = 300;
export const MAX_DELAY_US = 400;
export const MAX_RESCHED = 3;
/** An interrupt op aimed at its own CPU arrives at most this many shared accesses into the next op. */
export const MAX_IRQ_AT = 12;
/** A spinner's budget: more self-reschedules than the passes one softirq invocation may make (G13). */
export const SPINNER_RESCHED = 12;

export const isSection = (op: Op): op is SectionOp => op.op === 'irqsave' || op.op === 'bh';

/** Operations in a program, a section counting as one plus its body. */
export function opCount(program: Program): number {
  const count = (ops: Op[]): number => ops.reduce((n, op) => n + 1 + (isSection(op) ? count(op.body) : 0), 0);
  return program.threads.reduce((n, ops) => n + count(ops), 0);
}

/** Every op of a thread, sections flattened, in program order. */
export function flatten(ops: Op[]): Op[] {
  return ops.flatMap((op) => (isSection(op) ? [op, ...op.body] : [op]));
}
