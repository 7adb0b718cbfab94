import type { ControlParams } from '../shm/protocol.ts';

/**
 * The controlled scheduler's shared state, in a SharedArrayBuffer of its own (allocated only in
 * controlled mode): who holds the baton, each CPU's run state, the strategy's state, the
 * virtual clock and the decision log. Only the baton holder writes it (the hand-off is a
 * sequentially consistent store), so plain typed-array accesses are enough between hand-offs.
 *
 * Buffer: Int32 words [I_*, per CPU, futex words], then Float64 words [D_*, per CPU], then the
 * decision log and the replay log (LOG_FIELDS Float64 each per entry).
 */

export enum Strategy {
  Random = 0,
  Pct = 1,
  RoundRobin = 2,
  /** Follow a recorded decision log; where it says nothing, keep the running CPU. */
  Replay = 3,
}

export const STRATEGY_NAMES = ['random', 'pct', 'rr'] as const;

/**
 * Versions of the scheduling rules, numbered after the repro formats that introduced them, so
 * that a decision log replays under the rules it was recorded with. 2: files of format 1 and 2.
 * 3: fairness applies in replay too, and a spinning CPU lets the other spinners go first.
 * 4: a spinner's check between two yields does not count as having run, for fairness.
 */
export type ScheduleRules = 2 | 3 | 4;
export const SCHEDULE_RULES: ScheduleRules = 4;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export enum RunState {
  /** Running or preempted at a decision point: enabled. */
  Running = 0,
  /** In a spin loop: runs only when no Running CPU is enabled (CHESS's yield). */
  Yielded = 1,
  /** Idle or sleeping: enabled by a kick, a pending interrupt or its deadline. */
  Blocked = 2,
  /** Offline: enabled only by a kick. */
  Parked = 3,
}

/** The baton holder when it is the controller thread; CPUs are 0..nrCpus-1. */
export const controllerId = (nrCpus: number): number => nrCpus;
/** K_TURN value that lets every CPU run freely (the machine is stopping). */
export const FREE = -1;

// Int32 globals.
export const I_TURN = 0;
export const I_STRATEGY = 1;
export const I_RNG = 2;
export const I_DEPTH = 3;
export const I_QUANTUM = 4;
export const I_RR_LEFT = 5;
/** Messages the CPUs posted to the controller; it takes the baton back when one is unseen. */
export const I_MSGS_SENT = 6;
export const I_MSGS_SEEN = 7;
export const I_LOG_LEN = 8;
export const I_LOG_OVERFLOW = 9;
export const I_REPLAY_LEN = 10;
export const I_REPLAY_POS = 11;
/** Bumped by the controller at each new run: CPUs reset their local scheduling state. */
export const I_EPOCH = 12;
/** The scheduling rules in force (RunPlan.scheduleRules): SCHEDULE_RULES unless a replay asks for older ones. */
export const I_SCHEDULE_RULES = 13;
/** 1: the controller takes the baton back as soon as no CPU can run (Controller.settle). */
export const I_UNTIL_QUIESCENT = 14;
const I_GLOBALS = 16;
// Int32 per CPU.
export const IC_STATE = 0;
export const IC_WAKE_SEQ = 1;
export const IC_PRIORITY = 2;
const IC_STRIDE = 4;

// Float64 globals.
export const D_STEPS = 0;
/** Virtual time in nanoseconds: every decision advances it by STEP_NS. */
export const D_CLOCK_NS = 1;
/** The controller wants the baton back at this virtual time. */
export const D_DEADLINE_NS = 2;
/** ... or after this many decisions. */
export const D_STEP_LIMIT = 3;
export const D_SWITCHES = 4;
export const D_PREEMPTIONS = 5;
export const D_RELEASES = 6;
/** PCT: the steps at which the running CPU's priority drops (MAX_DEPTH - 1 of them). */
export const D_CHANGE_POINTS = 8;
export const MAX_DEPTH = 8;
const D_GLOBALS = D_CHANGE_POINTS + MAX_DEPTH;
// Float64 per CPU.
export const DC_DEADLINE_NS = 0;
/** The last step at which the CPU ran or could not run: it has waited to run since. */
export const DC_WAITING_SINCE = 1;
/** Fairness: the CPU is preferred until this step. */
export const DC_BOOST_UNTIL = 2;
/** Decisions the CPU has made running since it last yielded or blocked (rules 4). */
export const DC_RUN_STREAK = 3;
const DC_STRIDE = 4;

/** A decision log entry: the step, who switched away at which of its own steps, to whom. */
export const LOG_FIELDS = 4;
export const L_STEP = 0;
export const L_FROM = 1;
export const L_FROM_STEP = 2;
/** Target CPU, plus FORCED_BIT when the switch was not a preemption (the CPU could not go on). */
export const L_TO = 3;
export const FORCED_BIT = 256;

/** Virtual nanoseconds per decision: a shared access "takes" a microsecond. */
export const STEP_NS = 1000;

export type { ControlParams };

export interface ControlBlock {
  sab: SharedArrayBuffer;
  params: ControlParams;
  i32: Int32Array;
  f64: Float64Array;
  /** Word index of CPU `cpu`'s Int32 block. */
  icpu(cpu: number): number;
  /** Futex word of participant `id` (a CPU, or the controller). */
  go(id: number): number;
  dcpu(cpu: number): number;
  log: Float64Array;
  replay: Float64Array;
}

function sizes(p: ControlParams): { i32Words: number; f64Words: number; logWords: number } {
  const i32Words = I_GLOBALS + p.nrCpus * IC_STRIDE + (p.nrCpus + 1);
  const f64Words = D_GLOBALS + p.nrCpus * DC_STRIDE;
  return { i32Words: i32Words + (i32Words & 1), f64Words, logWords: p.logCapacity * LOG_FIELDS };
}

export function controlBlockBytes(p: ControlParams): number {
  const s = sizes(p);
  return s.i32Words * 4 + (s.f64Words + 2 * s.logWords) * 8;
}

export function viewControlBlock(sab: SharedArrayBuffer, params: ControlParams): ControlBlock {
  const s = sizes(params);
  const f64Base = s.i32Words * 4;
  const logBase = f64Base + s.f64Words * 8;
  const goBase = I_GLOBALS + params.nrCpus * IC_STRIDE;
  return {
    sab,
    params,
    i32: new Int32Array(sab, 0, s.i32Words),
    f64: new Float64Array(sab, f64Base, s.f64Words),
    icpu: (cpu) => I_GLOBALS + cpu * IC_STRIDE,
    go: (id) => goBase + id,
    dcpu: (cpu) => D_GLOBALS + cpu * DC_STRIDE,
    log: new Float64Array(sab, logBase, s.logWords),
    replay: new Float64Array(sab, logBase + s.logWords * 8, s.logWords),
  };
}

export function createControlBlock(params: ControlParams): ControlBlock {
  const block = viewControlBlock(new SharedArrayBuffer(controlBlockBytes(params)), params);
  block.i32[I_TURN] = controllerId(params.nrCpus);
  block.i32[I_SCHEDULE_RULES] = SCHEDULE_RULES;
  block.f64[D_DEADLINE_NS] = 0;
  block.f64[D_STEP_LIMIT] = Number.POSITIVE_INFINITY;
  return block;
}

/** Hands the baton to `next` (a CPU or the controller) and wakes it. */
export function pass_baton(block: ControlBlock, next: number): void {
  Atomics.store(block.i32, I_TURN, next);
  Atomics.add(block.i32, block.go(next), 1);
  Atomics.notify(block.i32, block.go(next), 1);
}

/** The machine is stopping: nobody holds the baton any more and every waiter wakes to run free. */
export function free_all(block: ControlBlock): void {
  Atomics.store(block.i32, I_TURN, FREE);
  for (let id = 0; id <= block.params.nrCpus; id++) {
    Atomics.add(block.i32, block.go(id), 1);
    Atomics.notify(block.i32, block.go(id));
  }
}
