/**
 * The scheduling decision of controlled mode, made by whichever thread holds the baton (a CPU at
 * a decision point, or the controller handing the machine back): which CPU runs next. Pure
 * over the control block and the machine's wake words, so every thread decides alike.
 *
 * Enabled CPUs come in two classes: Running ones, and Yielded ones (spinning in a wait), which
 * run only when no Running CPU is enabled. When no CPU is enabled, virtual time jumps to the
 * earliest deadline (a tick), as a tickless idle machine would.
 *
 * Fairness: a CPU that could run but has not for FAIR_STEPS decisions gets the next slice,
 * whatever the strategy prefers. Without it a CPU spinning until another CPU's progress could
 * starve that CPU forever (PCT never preempts a higher-priority CPU on its own), which real
 * parallel hardware never does. A replayed log needs no such rule: it records these switches.
 */

import { C_IRQ_PENDING, C_WAKE } from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';
import {
  type ControlBlock,
  D_CHANGE_POINTS,
  D_CLOCK_NS,
  D_DEADLINE_NS,
  D_PREEMPTIONS,
  D_STEP_LIMIT,
  D_STEPS,
  D_SWITCHES,
  DC_BOOST_UNTIL,
  DC_DEADLINE_NS,
  DC_WAITING_SINCE,
  FORCED_BIT,
  I_DEPTH,
  I_LOG_LEN,
  I_LOG_OVERFLOW,
  I_MSGS_SEEN,
  I_MSGS_SENT,
  I_QUANTUM,
  I_REPLAY_LEN,
  I_REPLAY_POS,
  I_RNG,
  I_RR_LEFT,
  I_STRATEGY,
  IC_PRIORITY,
  IC_STATE,
  IC_WAKE_SEQ,
  L_FROM,
  L_FROM_STEP,
  L_STEP,
  L_TO,
  LOG_FIELDS,
  RunState,
  STEP_NS,
  Strategy,
} from './block.ts';

const NOT_ENABLED = 0;
const RUNNABLE = 1;
const YIELDED = 2;

/** Decisions an enabled CPU may wait before fairness runs it. */
const FAIR_STEPS = 2000;
/** Decisions fairness gives it (a yield ends them early). */
const FAIR_SLICE = 100;

/** Scratch for candidate lists: no allocation per decision. */
let scratch = new Int32Array(64);
let classes = new Int8Array(64);

function enabledClass(b: ControlBlock, cpu: number): number {
  const ic = b.icpu(cpu);
  const state = b.i32[ic + IC_STATE];
  if (state === RunState.Running) return RUNNABLE;
  if (state === RunState.Yielded) return YIELDED;
  const base = shm.layout.cpu(cpu);
  if (Atomics.load(shm.mem, base + C_WAKE) !== b.i32[ic + IC_WAKE_SEQ]) return RUNNABLE;
  if (state === RunState.Parked) return NOT_ENABLED;
  if (shm.mem[base + C_IRQ_PENDING] !== 0) return RUNNABLE;
  return b.f64[D_CLOCK_NS] >= b.f64[b.dcpu(cpu) + DC_DEADLINE_NS] ? RUNNABLE : NOT_ENABLED;
}

/**
 * Whether every CPU is idle or asleep with nothing to wake it but its timer: the machine is
 * quiescent, and only the passing of time makes it run again.
 */
export function quiescent(b: ControlBlock, nrCpus: number): boolean {
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    const state = b.i32[b.icpu(cpu) + IC_STATE];
    if (state === RunState.Running || state === RunState.Yielded) return false;
    const base = shm.layout.cpu(cpu);
    if (Atomics.load(shm.mem, base + C_WAKE) !== b.i32[b.icpu(cpu) + IC_WAKE_SEQ]) return false;
    if (state === RunState.Blocked && shm.mem[base + C_IRQ_PENDING] !== 0) return false;
  }
  return true;
}

/** mulberry32 over the shared seed word. */
function random(b: ControlBlock): number {
  const s = (b.i32[I_RNG] + 0x6d2b79f5) | 0;
  b.i32[I_RNG] = s;
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** Whether the controller takes the baton at this decision. */
export function controllerWanted(b: ControlBlock): boolean {
  return (
    b.f64[D_CLOCK_NS] >= b.f64[D_DEADLINE_NS] ||
    Atomics.load(b.i32, I_MSGS_SENT) !== b.i32[I_MSGS_SEEN] ||
    b.f64[D_STEPS] >= b.f64[D_STEP_LIMIT]
  );
}

/** Sorts the enabled CPUs into `scratch`, best class first; returns how many of the best class. */
function candidates(b: ControlBlock, nrCpus: number): number {
  if (scratch.length < nrCpus) {
    scratch = new Int32Array(nrCpus);
    classes = new Int8Array(nrCpus);
  }
  let runnable = 0;
  let yielded = 0;
  const steps = b.f64[D_STEPS];
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    const c = enabledClass(b, cpu);
    classes[cpu] = c;
    if (c === NOT_ENABLED) b.f64[b.dcpu(cpu) + DC_WAITING_SINCE] = steps;
    if (c === RUNNABLE) scratch[runnable++] = cpu;
    else if (c === YIELDED) yielded++;
  }
  if (runnable > 0 || yielded === 0) return runnable;
  let n = 0;
  for (let cpu = 0; cpu < nrCpus; cpu++) if (classes[cpu] === YIELDED) scratch[n++] = cpu;
  return n;
}

/** No CPU is enabled: virtual time jumps to the earliest CPU deadline. False if there is none. */
function fastForward(b: ControlBlock, nrCpus: number): boolean {
  let earliest = Number.POSITIVE_INFINITY;
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    if (b.i32[b.icpu(cpu) + IC_STATE] !== RunState.Blocked) continue;
    earliest = Math.min(earliest, b.f64[b.dcpu(cpu) + DC_DEADLINE_NS]);
  }
  // Never past the controller's deadline: it wants the machine back then.
  earliest = Math.min(earliest, b.f64[D_DEADLINE_NS]);
  if (earliest === Number.POSITIVE_INFINITY) return false;
  if (earliest > b.f64[D_CLOCK_NS]) b.f64[D_CLOCK_NS] = earliest;
  return true;
}

function contains(n: number, cpu: number): boolean {
  for (let k = 0; k < n; k++) if (scratch[k] === cpu) return true;
  return false;
}

function pickPct(b: ControlBlock, n: number): number {
  let best = scratch[0];
  let bestPriority = b.i32[b.icpu(best) + IC_PRIORITY];
  for (let k = 1; k < n; k++) {
    const priority = b.i32[b.icpu(scratch[k]) + IC_PRIORITY];
    if (priority > bestPriority) {
      best = scratch[k];
      bestPriority = priority;
    }
  }
  return best;
}

function pickRoundRobin(b: ControlBlock, n: number, me: number, meRunnable: boolean, nrCpus: number): number {
  if (meRunnable && b.i32[I_RR_LEFT] > 0) {
    b.i32[I_RR_LEFT]--;
    return me;
  }
  b.i32[I_RR_LEFT] = b.i32[I_QUANTUM] - 1;
  for (let d = 1; d <= nrCpus; d++) {
    const cpu = (me + d) % (nrCpus + 1);
    if (cpu < nrCpus && contains(n, cpu)) return cpu;
  }
  return scratch[0];
}

/** The recorded switch if the log has one for this decision, else stay, else the lowest CPU. */
function pickReplay(b: ControlBlock, me: number, meRunnable: boolean, meStep: number): number {
  const pos = b.i32[I_REPLAY_POS];
  if (pos < b.i32[I_REPLAY_LEN]) {
    const entry = pos * LOG_FIELDS;
    if (b.replay[entry + L_FROM] === me && b.replay[entry + L_FROM_STEP] === meStep) {
      b.i32[I_REPLAY_POS] = pos + 1;
      // Any enabled CPU: fairness may have picked one that was yielding.
      const to = b.replay[entry + L_TO] & (FORCED_BIT - 1);
      if (classes[to] !== NOT_ENABLED) return to;
    }
  }
  return meRunnable ? me : scratch[0];
}

/**
 * Fairness for the seeded strategies: the CPU that has waited longest past FAIR_STEPS gets a
 * slice, and a CPU within its slice goes on. -1 when fairness has no say.
 */
function pickFair(b: ControlBlock, nrCpus: number, steps: number): number {
  let starved = -1;
  let since = steps - FAIR_STEPS;
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    if (classes[cpu] === NOT_ENABLED) continue;
    const d = b.dcpu(cpu);
    if (classes[cpu] === RUNNABLE && b.f64[d + DC_BOOST_UNTIL] > steps) return cpu;
    if (b.f64[d + DC_WAITING_SINCE] < since) {
      starved = cpu;
      since = b.f64[d + DC_WAITING_SINCE];
    }
  }
  if (starved >= 0) b.f64[b.dcpu(starved) + DC_BOOST_UNTIL] = steps + FAIR_SLICE;
  return starved;
}

function record(b: ControlBlock, me: number, meStep: number, next: number, forced: boolean): void {
  b.f64[D_SWITCHES]++;
  if (!forced) b.f64[D_PREEMPTIONS]++;
  const len = b.i32[I_LOG_LEN];
  if (len * LOG_FIELDS >= b.log.length) {
    b.i32[I_LOG_OVERFLOW] = 1;
    return;
  }
  const entry = len * LOG_FIELDS;
  b.log[entry + L_STEP] = b.f64[D_STEPS];
  b.log[entry + L_FROM] = me;
  b.log[entry + L_FROM_STEP] = meStep;
  b.log[entry + L_TO] = next | (forced ? FORCED_BIT : 0);
  b.i32[I_LOG_LEN] = len + 1;
}

/**
 * One decision by the baton holder `me` (a CPU whose run state is already set, or the
 * controller, id nrCpus, handing the machine back). Returns who runs next: a CPU, or the
 * controller when it asked for the baton back or nothing can ever run.
 */
export function decide(b: ControlBlock, me: number, nrCpus: number, meStep: number): number {
  const controller = nrCpus;
  if (me !== controller) {
    const steps = ++b.f64[D_STEPS];
    b.f64[D_CLOCK_NS] += STEP_NS;
    const d = b.dcpu(me);
    b.f64[d + DC_WAITING_SINCE] = steps;
    if (b.i32[b.icpu(me) + IC_STATE] === RunState.Yielded) b.f64[d + DC_BOOST_UNTIL] = 0;
    if (b.i32[I_STRATEGY] === Strategy.Pct) {
      // PCT: at the i-th change point the running CPU drops to priority i, below every other.
      for (let i = 0; i < b.i32[I_DEPTH] - 1; i++)
        if (b.f64[D_CHANGE_POINTS + i] === steps) b.i32[b.icpu(me) + IC_PRIORITY] = i + 1;
    }
    if (controllerWanted(b)) return controller;
  }
  let n = candidates(b, nrCpus);
  if (n === 0) {
    if (!fastForward(b, nrCpus) || controllerWanted(b)) return controller;
    n = candidates(b, nrCpus);
    if (n === 0) return controller;
  }
  const meRunnable = me !== controller && classes[me] === RUNNABLE && contains(n, me);
  const strategy = b.i32[I_STRATEGY];
  let next = strategy === Strategy.Replay ? -1 : pickFair(b, nrCpus, b.f64[D_STEPS]);
  if (next < 0)
    switch (strategy) {
      case Strategy.Random:
        next = scratch[random(b) % n];
        break;
      case Strategy.Pct:
        next = pickPct(b, n);
        break;
      case Strategy.RoundRobin:
        next = pickRoundRobin(b, n, me, meRunnable, nrCpus);
        break;
      default:
        next = pickReplay(b, me, meRunnable, meStep);
    }
  if (next !== me) record(b, me, meStep, next, !meRunnable);
  return next;
}
