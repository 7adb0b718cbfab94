/**
 * The scheduling decision of controlled mode, made by whichever thread holds the baton (a CPU at
 * a decision point, or the controller handing the machine back): which CPU runs next. Pure
 * over the control block and the machine's wake words, so every thread decides alike.
 *
 * Enabled CPUs come in two classes: Running ones, and Yielded ones (spinning in a wait), which
 * run only when no Running CPU is enabled, and then the other spinners before the one that
 * just yielded. When no CPU is enabled, virtual time jumps to the
 * earliest deadline (a tick), as a tickless idle machine would.
 *
 * Fairness: a CPU that could run but has not for FAIR_STEPS decisions gets the next slice,
 * whatever the strategy prefers. Without it a CPU spinning until another CPU's progress could
 * starve that CPU forever (PCT never preempts a higher-priority CPU on its own), which real
 * parallel hardware never does. A replay keeps the rule too (strategies/replay.ts), after the
 * log's own pick: the log records the switches it made, and the rule makes them again. Running
 * means running on (rules 4): a spinner's one check between two yields is not, or a spinner that
 * only ever runs inside another CPU's yields (the lock holder waiting out a KCSAN window in its
 * critical section) would count as served, and never get a slice while the holder has let go.
 */

import { C_IRQ_PENDING, C_WAKE } from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';
import {
  type ControlBlock,
  D_CLOCK_NS,
  D_DEADLINE_NS,
  D_PREEMPTIONS,
  D_STEP_LIMIT,
  D_STEPS,
  D_SWITCHES,
  DC_BOOST_UNTIL,
  DC_DEADLINE_NS,
  DC_RUN_STREAK,
  DC_WAITING_SINCE,
  FORCED_BIT,
  I_LOG_LEN,
  I_LOG_OVERFLOW,
  I_MSGS_SEEN,
  I_MSGS_SENT,
  I_SCHEDULE_RULES,
  I_UNTIL_QUIESCENT,
  IC_STATE,
  IC_WAKE_SEQ,
  L_FROM,
  L_FROM_STEP,
  L_STEP,
  L_TO,
  LOG_FIELDS,
  RunState,
  STEP_NS,
} from './block.ts';
import { candidates, isCandidate, NOT_ENABLED, RUNNABLE, reserveCandidates, YIELDED } from './candidates.ts';
import { current_strategy } from './strategies/index.ts';

/** Decisions an enabled CPU may wait before fairness runs it. */
const FAIR_STEPS = 2000;
/** Decisions fairness gives it (a yield ends them early). */
const FAIR_SLICE = 100;

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

/** Whether the controller takes the baton at this decision. */
export function controllerWanted(b: ControlBlock): boolean {
  return (
    b.f64[D_CLOCK_NS] >= b.f64[D_DEADLINE_NS] ||
    Atomics.load(b.i32, I_MSGS_SENT) !== b.i32[I_MSGS_SEEN] ||
    b.f64[D_STEPS] >= b.f64[D_STEP_LIMIT]
  );
}

/** Sorts the enabled CPUs into the candidates, best class first; returns how many of the best class. */
function sortCandidates(b: ControlBlock, nrCpus: number): number {
  reserveCandidates(nrCpus);
  const { cpus: scratch, classes } = candidates;
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

/**
 * Fairness for the seeded strategies: the CPU that has waited longest past FAIR_STEPS gets a
 * slice, and a CPU within its slice goes on. -1 when fairness has no say.
 */
function pickFair(b: ControlBlock, nrCpus: number, steps: number): number {
  const { classes } = candidates;
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
  if (starved >= 0) {
    b.f64[b.dcpu(starved) + DC_BOOST_UNTIL] = steps + FAIR_SLICE;
    // Served now: a spinner's checks do not count (ranOn), so the slice itself must.
    if (b.i32[I_SCHEDULE_RULES] >= 4) b.f64[b.dcpu(starved) + DC_WAITING_SINCE] = steps;
  }
  return starved;
}

/**
 * When only spinning CPUs can run and `me` is one of them, the others go first: a CPU that
 * yields in a wait waits for another's progress, and on real hardware every spinner advances
 * at once. Without this, a strategy that prefers `me` (PCT's priorities, a replay's "the
 * running CPU goes on") would spin it alone while the CPU it waits for (a dying CPU's heir
 * spinning in a wait of its own, say) got one step per fairness slice. Returns the new count.
 */
function othersFirst(n: number, me: number): number {
  const { cpus, classes } = candidates;
  if (n < 2 || classes[me] !== YIELDED || !isCandidate(n, me)) return n;
  let k = 0;
  for (let i = 0; i < n; i++) if (cpus[i] !== me) cpus[k++] = cpus[i];
  return k;
}

/**
 * Whether `me`'s decision in `state` counts as having run, for fairness. Under rules 4, a
 * Running decision counts from the second in a row: a spin loop checks its condition once
 * between two yields, and that check is not progress.
 */
function ranOn(b: ControlBlock, d: number, state: RunState): boolean {
  if (b.i32[I_SCHEDULE_RULES] < 4) return true;
  if (state !== RunState.Running) {
    b.f64[d + DC_RUN_STREAK] = 0;
    return false;
  }
  return ++b.f64[d + DC_RUN_STREAK] >= 2;
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
  const strategy = current_strategy(b);
  if (me !== controller) {
    const steps = ++b.f64[D_STEPS];
    b.f64[D_CLOCK_NS] += STEP_NS;
    const d = b.dcpu(me);
    const state = b.i32[b.icpu(me) + IC_STATE];
    if (ranOn(b, d, state)) b.f64[d + DC_WAITING_SINCE] = steps;
    if (state === RunState.Yielded) b.f64[d + DC_BOOST_UNTIL] = 0;
    strategy.stepped?.(b, me, steps);
    if (controllerWanted(b)) return controller;
  }
  let n = sortCandidates(b, nrCpus);
  if (n === 0) {
    // Settling: quiescence is what the controller waits for, not the next tick after it.
    if (b.i32[I_UNTIL_QUIESCENT] !== 0) return controller;
    if (!fastForward(b, nrCpus) || controllerWanted(b)) return controller;
    n = sortCandidates(b, nrCpus);
    if (n === 0) return controller;
  }
  if (b.i32[I_SCHEDULE_RULES] >= 3) n = othersFirst(n, me);
  const meRunnable = me !== controller && candidates.classes[me] === RUNNABLE && isCandidate(n, me);
  let next: number;
  if (strategy.fair === 'first') {
    next = pickFair(b, nrCpus, b.f64[D_STEPS]);
    if (next < 0) next = strategy.pick(b, n, me, meRunnable, meStep, nrCpus);
  } else {
    next = strategy.pick(b, n, me, meRunnable, meStep, nrCpus);
    const fair = strategy.fairAfter?.(b) === true ? pickFair(b, nrCpus, b.f64[D_STEPS]) : -1;
    if (fair >= 0) next = fair;
  }
  if (next !== me) record(b, me, meStep, next, !meRunnable);
  return next;
}
