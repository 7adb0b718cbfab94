/**
 * The shared words of the module harness (harness/module/): the stimulus control block the
 * controller and the CPUs' stimulus tasks share, and the shadow record the harness keeps per
 * tasklet of the module under test: the oracle library's record (harness/oracles/shadow.ts),
 * indexed by tasklet id, beside an extension with what a module's tasklets need on top.
 */
import { shadowWords } from '../oracles/shadow.ts';

export const CONTROL_NAME = 'module-harness';
export const SHADOW_NAME = 'module-shadow';
export const EXTRA_NAME = 'module-shadow-x';

/** Tasklets of the module the shadow follows: ids 0..MAX_TRACKED-1 (others go unjudged). */
export const MAX_TRACKED = 128;
export const MAX_LINES = 16;
export const MAX_TASKS = 16;

// The control block.
export const M_PHASE = 0; // Phase
export const M_EPOCH = 1; // drain number the CPUs are asked to reach
export const M_LIFECYCLE = 2; // remove → probe cycles done
export const M_UNTRACKED = 3; // events of tasklets with an id past MAX_TRACKED
export const M_READY = 4; // 1 once every module's init (and probe) ran: the stimulus may start
export const M_DEVICE_LOCK = 5; // 1 while a remove/probe runs (the driver core's device_lock)
export const M_IRQS = 8; // + line index: interrupts raised
export const M_STARTS = M_IRQS + MAX_LINES; // + task index: tasks started
export const M_ACK = M_STARTS + MAX_TASKS; // + cpu * 2 + role (0 irqs, 1 tasks): epoch that stimulus task reached at a drain
export const M_ALIVE = M_ACK + 128; // + cpu: module tasks the harness started that have not ended
export const CONTROL_WORDS = M_ALIVE + 64;

export enum Phase {
  Run = 0,
  Drain = 1,
  Stop = 2,
}

// The extension record, per tasklet id (xw(id, field)).
export const X_SEEN = 0; // 1 once any of its entry points or runs was seen
export const X_PUSHED = 1; // effective schedules (the caller set SCHED): each owes one run
export const X_POPPED = 2; // run starts, each paying for the oldest effective schedule
export const X_RUN_POP = 3; // X_POPPED value the current (last) run took
export const X_DISABLES = 4; // disables seen minus enables seen (never more than t->count)
export const X_DSTATE = 5; // epoch << 1 | 1 once a waiting disable returned in that epoch; the epoch moves when X_DISABLES reaches 0
export const X_KILLED = 6; // X_PUSHED + 1 when a tasklet_kill last returned (0: none)
export const X_PLACE = 7; // PLACE_RING words: (CPU + 1) | offline count << 8 of each effective schedule
export const PLACE_RING = 4;
export const EXTRA_WORDS = X_PLACE + PLACE_RING;

export const xw = (id: number, field: number): number => id * EXTRA_WORDS + field;
export const MODULE_SHADOW_WORDS = shadowWords(MAX_TRACKED);
export const MODULE_EXTRA_WORDS = MAX_TRACKED * EXTRA_WORDS;

/** What the controller hands each CPU's stimulus tasks (arg of startTask). */
export interface StimulusPlan {
  seed: number;
  /** Interrupt lines and their rates (per second over the machine). */
  lines: { irq: number; rate: number }[];
  /** Tasks and their weights, in the order of M_STARTS. */
  tasks: { name: string; weight: number }[];
  /** Tasks started at once per CPU, at most. */
  perCpu: number;
}
