/**
 * Controlled mode, the controller side. The controller holds the baton whenever it is not
 * waiting: what it does to the machine (requests, interrupts, hotplug, resets) happens while
 * every CPU stands still, and it hands the machine back only through `advance`, which runs the
 * CPUs until a virtual deadline passes or a CPU posts a message. So its actions land at the
 * same decision of every run, and a seed decides the whole execution.
 */

import { wholeUs } from '../shm/clock.ts';
import {
  type ControlBlock,
  type ControlParams,
  controllerId,
  createControlBlock,
  D_CLOCK_NS,
  D_DEADLINE_NS,
  D_PREEMPTIONS,
  D_RELEASES,
  D_STEP_LIMIT,
  D_STEPS,
  D_SWITCHES,
  DC_BOOST_UNTIL,
  DC_DEADLINE_NS,
  DC_RUN_STREAK,
  DC_WAITING_SINCE,
  FREE,
  free_all,
  I_EPOCH,
  I_LOG_LEN,
  I_LOG_OVERFLOW,
  I_MSGS_SEEN,
  I_MSGS_SENT,
  I_SCHEDULE_RULES,
  I_STRATEGY,
  I_TURN,
  I_UNTIL_QUIESCENT,
  IC_STATE,
  LOG_FIELDS,
  MAX_DEPTH,
  pass_baton,
  RunState,
  SCHEDULE_RULES,
  STEP_NS,
} from './block.ts';
import { decide, quiescent } from './decide.ts';
import {
  type ControlledOptions,
  DEFAULT_BATON_SPINS,
  DEFAULT_DEPTH,
  DEFAULT_EXPECTED_STEPS,
  type RunPlan,
} from './plan.ts';
import { strategy_for } from './strategies/index.ts';

export type { ControlledOptions, RunPlan };
export { DEFAULT_DEPTH, DEFAULT_EXPECTED_STEPS };

export interface ControlStats {
  /** Scheduling decisions (one per shared access or interrupt point). */
  steps: number;
  /** Decisions that handed the baton to another CPU. */
  switches: number;
  /** Switches away from a CPU that could have gone on. */
  preemptions: number;
  virtualMs: number;
  /** The decision log overflowed: the run cannot be replayed exactly from it. */
  logOverflow: boolean;
}

const DEFAULT_LOG_CAPACITY = 1 << 18;
const ABORT_POLL_MS = 200;
/**
 * The longest stretch of virtual time one hand-back covers. Concurrent waiters share a
 * hand-back, so its length must not depend on which of them asked first: each asks again.
 */
const QUANTUM_MS = 1;

/** A small seeded generator for the plan itself (priorities, change points). */
function mulberry(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export interface ControllerHooks {
  /** Messages from the CPUs the controller has received so far. */
  received(): number;
  /** Non-null when the machine failed (a dead worker may hold the baton): stop waiting. */
  failure(): string | null;
}

export class Controller {
  readonly block: ControlBlock;
  private releasing: Promise<void> | null = null;
  private readonly me: number;

  constructor(
    params: ControlParams,
    private readonly hooks: ControllerHooks,
  ) {
    this.block = createControlBlock(params);
    this.me = controllerId(params.nrCpus);
  }

  static params(nrCpus: number, options: ControlledOptions): ControlParams {
    return {
      nrCpus,
      logCapacity: options.logCapacity ?? DEFAULT_LOG_CAPACITY,
      batonSpins: options.batonSpins ?? DEFAULT_BATON_SPINS,
    };
  }

  /** Virtual milliseconds since boot. */
  now(): number {
    return this.block.f64[D_CLOCK_NS] / 1e6;
  }

  stats(): ControlStats {
    const f = this.block.f64;
    return {
      steps: f[D_STEPS],
      switches: f[D_SWITCHES],
      preemptions: f[D_PREEMPTIONS],
      virtualMs: this.now(),
      logOverflow: this.block.i32[I_LOG_OVERFLOW] !== 0,
    };
  }

  /** The decision log of the current run, flat (LOG_FIELDS numbers per switch). */
  log(): number[] {
    return Array.from(this.block.log.subarray(0, this.block.i32[I_LOG_LEN] * LOG_FIELDS));
  }

  /** Every CPU idles until its next tick: nothing runs but the passing of time. */
  quiescent(): boolean {
    return quiescent(this.block, this.block.params.nrCpus);
  }

  /**
   * Runs the CPUs until none can run (quiescent) or `maxMs` of virtual time pass; returns whether
   * the machine is quiescent. The hand-back ends the moment the last CPU blocks: polling
   * `quiescent` after fixed sleeps instead can lock onto the timer's phase, every poll landing
   * while some CPU is still in its tick, and so never see the idle machine in between.
   */
  async settle(maxMs: number): Promise<boolean> {
    const { i32 } = this.block;
    const deadline = wholeUs(this.now() + maxMs);
    i32[I_UNTIL_QUIESCENT] = 1;
    try {
      while (!this.quiescent() && wholeUs(this.now()) < deadline && this.hooks.failure() === null)
        await this.advance((deadline - wholeUs(this.now())) / 1000);
    } finally {
      i32[I_UNTIL_QUIESCENT] = 0;
    }
    return this.quiescent();
  }

  /**
   * Starts a run: a fresh schedule from the plan, counters and log at zero, every CPU's local
   * scheduling state reset, and the clock moved to the idle CPUs' next tick so every run starts
   * in the same phase of the timer. Call it with the machine quiescent, for runs to replay alike.
   */
  beginRun(plan: RunPlan): void {
    const { i32, f64 } = this.block;
    const nrCpus = this.block.params.nrCpus;
    const depth = plan.depth ?? DEFAULT_DEPTH;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH)
      throw new RangeError(`PCT depth must be an integer from 1 to ${MAX_DEPTH}, got ${depth}`);
    const strategy = strategy_for(plan);
    i32[I_STRATEGY] = strategy.id;
    const rules = plan.scheduleRules ?? SCHEDULE_RULES;
    if (rules !== 2 && rules !== 3 && rules !== SCHEDULE_RULES)
      throw new RangeError(`scheduling rules must be 2, 3 or ${SCHEDULE_RULES}, got ${rules}`);
    i32[I_SCHEDULE_RULES] = rules;
    strategy.begin(this.block, plan, mulberry(plan.seed ^ 0x51ed));
    for (let cpu = 0; cpu < nrCpus; cpu++) {
      const d = this.block.dcpu(cpu);
      f64[d + DC_WAITING_SINCE] = 0;
      f64[d + DC_BOOST_UNTIL] = 0;
      f64[d + DC_RUN_STREAK] = 0;
    }
    f64[D_STEPS] = 0;
    f64[D_SWITCHES] = 0;
    f64[D_PREEMPTIONS] = 0;
    f64[D_RELEASES] = 0;
    f64[D_STEP_LIMIT] = plan.stepLimit ?? Number.POSITIVE_INFINITY;
    i32[I_LOG_LEN] = 0;
    i32[I_LOG_OVERFLOW] = 0;
    // Every idle CPU waits for the same next tick: start the run as it falls due, whether or
    // not the last run happened to end exactly on a tick.
    let nextTick = Number.POSITIVE_INFINITY;
    for (let cpu = 0; cpu < nrCpus; cpu++)
      if (i32[this.block.icpu(cpu) + IC_STATE] === RunState.Blocked)
        nextTick = Math.min(nextTick, f64[this.block.dcpu(cpu) + DC_DEADLINE_NS]);
    if (nextTick !== Number.POSITIVE_INFINITY) f64[D_CLOCK_NS] = Math.max(f64[D_CLOCK_NS], nextTick);
    Atomics.add(i32, I_EPOCH, 1);
  }

  /**
   * Lets the CPUs run until `ms` (at most a quantum) of virtual time pass or one of them posts
   * a message (read by the time this resolves). Concurrent callers share one hand-back.
   */
  advance(ms: number): Promise<void> {
    this.releasing ??= this.release(ms).finally(() => {
      this.releasing = null;
    });
    return this.releasing;
  }

  /** Decisions after which the CPUs stop and the controller keeps the baton (Infinity: none). */
  setStepLimit(steps: number): void {
    this.block.f64[D_STEP_LIMIT] = steps;
  }

  /** The machine is stopping: every CPU runs free to its exit. */
  stop(): void {
    free_all(this.block);
  }

  private async release(ms: number): Promise<void> {
    const { i32, f64 } = this.block;
    // Every controller coroutine that the last hand-back woke runs to its next wait before the
    // machine moves on, however many promise hops each took: a full turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    await this.catchUp();
    // Stopping (the CPUs run free), or failed (a dead worker may hold the baton): nothing to
    // hand back; a real pause keeps callers' loops from spinning on microtasks.
    if (Atomics.load(i32, I_TURN) !== this.me) {
      // No CPU of a failed machine will move its clock again: it moves on without them, so
      // every wait bounded in machine time (a drain, a request, a settle) still ends.
      if (this.hooks.failure() !== null) f64[D_CLOCK_NS] += Math.max(ms, 0) * 1e6;
      return new Promise((resolve) => setTimeout(resolve, 1));
    }
    // Whole steps: the deadline must not depend on how `ms` rounded at this clock value.
    const steps = Math.max(1, Math.round((Math.min(ms, QUANTUM_MS) * 1e6) / STEP_NS));
    f64[D_DEADLINE_NS] = f64[D_CLOCK_NS] + steps * STEP_NS;
    const next = decide(this.block, this.me, this.block.params.nrCpus, ++f64[D_RELEASES]);
    if (next === this.me) return;
    pass_baton(this.block, next);
    await this.takeBack();
    await this.catchUp();
  }

  private async takeBack(): Promise<void> {
    const { i32 } = this.block;
    const word = this.block.go(this.me);
    for (;;) {
      const seq = Atomics.load(i32, word);
      const turn = Atomics.load(i32, I_TURN);
      if (turn === this.me || turn === FREE || this.hooks.failure() !== null) return;
      const wait = Atomics.waitAsync(i32, word, seq, ABORT_POLL_MS);
      if (wait.async) await wait.value;
    }
  }

  /** Waits until every message the CPUs posted has been received (and handled). */
  private async catchUp(): Promise<void> {
    const { i32 } = this.block;
    while (this.hooks.received() < Atomics.load(i32, I_MSGS_SENT) && this.hooks.failure() === null)
      await new Promise((resolve) => setImmediate(resolve));
    i32[I_MSGS_SEEN] = Atomics.load(i32, I_MSGS_SENT);
  }
}
