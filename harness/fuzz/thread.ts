/**
 * One CPU's part of a program, run as a task in process context: waits at the start barrier,
 * then executes its ops, each bracketed by the oracles and logged as an interval of the
 * logical clock for the coverage table.
 */
import {
  cpu_relax,
  local_bh_disable,
  local_bh_enable,
  local_irq_restore,
  local_irq_save,
  raise_irq,
  smp_processor_id,
  type TaskBody,
  tasklet_disable,
  tasklet_disable_in_atomic,
  tasklet_disable_nosync,
  tasklet_enable,
  tasklet_kill,
  tasklet_setup,
  udelay,
} from 'tasklet-rt';
import { kick_cpu, notify_controller } from '../../kernel/wake.ts';
import { machineMs } from '../../shm/clock.ts';
import { cpu_sleep, interrupt_point, layout, raw_load, under_control } from '../../shm/door.ts';
import { C_WAKE } from '../../shm/layout.ts';
import { before_enable, on_disable_return, on_kill_return } from '../oracles/call-checks.ts';
import { offlineCount } from '../oracles/cpu-context.ts';
import {
  EventKind,
  F_BUDGET,
  F_IN_FLIGHT,
  F_NO_SCHED,
  F_SCHED_SEQ,
  record_event,
  tw,
} from '../oracles/shadow.ts';
import { bhOp } from './bh-exec.ts';
import { resetHeldWorks } from './bh-work-ops.ts';
import type { OrderPair } from './expect.ts';
import { fifo_idle, on_fifo_queued } from './fifo.ts';
import { armIrq, fireArmedIrq, restartInjection } from './injection.ts';
import {
  FUZZ_IRQ,
  mailbox,
  W_ARRIVED,
  W_GENERATION,
  W_HOTPLUG,
  W_ORPHANS,
  W_RACE_ARRIVED,
  W_THREADS,
  X_HELD,
  X_KILL_SEQ,
  X_KILLS_IN_FLIGHT,
  X_RESCHED_HI,
  xw,
} from './layout.ts';
import type { FuzzSetup } from './module.ts';
import {
  type KillWindow,
  kill_check_applies,
  on_kill_covers,
  on_order_mark,
  on_orphaned,
} from './oracles.ts';
import { isBhOp, isSection, type Op, SPINNER_RESCHED, type TaskletOpName } from './program.ts';
import {
  fail,
  fifo_placeable,
  logInterval,
  scheduleTracked,
  setFifoPlaceable,
  sh,
  tick,
  tl,
  words,
} from './state.ts';

export interface ThreadArg {
  /** The program's number on this machine: a thread starts once the setup for it is done. */
  generation: number;
  /** Free-running, CPU 0's thread runs the setup itself (the controller saves a round trip). */
  setup?: FuzzSetup;
  ops: Op[];
  /** Order checks of sections: [top-level op index, pairs]. */
  orders: [number, OrderPair[]][];
  /** Tasklets the FIFO oracle may place (see fifoTasklets). */
  fifo: number[];
}

const BARRIER_TIMEOUT_MS = 2000;
/** Machine time a CPU waits at the race point for the others (a shrunk program may lack theirs). */
const RACE_WAIT_MS = 5;
/** Machine time an orphan op waits for its probe to run (a probe that never runs is a lost run). */
const PROBE_WAIT_MS = 50;

/** Per tasklet, whether each disable this CPU holds was a waiting one (it told the oracle). */
const held = new Map<number, boolean[]>();
let fuzzCallback: Parameters<typeof tasklet_setup>[1] = () => {};
let programSetup: (setup: FuzzSetup) => void = () => {};

/** The module's tasklet callback (an init op sets it up again) and its per-program setup. */
export function setFuzzHooks(callback: typeof fuzzCallback, setup: typeof programSetup): void {
  fuzzCallback = callback;
  programSetup = setup;
}

/** The counters around a kill of tasklet i, this kill not counted. */
const killWindow = (i: number): KillWindow => ({
  schedulesInFlight: Atomics.load(sh, tw(i, F_IN_FLIGHT)),
  scheduleSeq: Atomics.load(sh, tw(i, F_SCHED_SEQ)),
  killsInFlight: Atomics.load(words, xw(i, X_KILLS_IN_FLIGHT)) - 1,
  killSeq: Atomics.load(words, xw(i, X_KILL_SEQ)),
});

function kill(i: number, cpu: number): void {
  Atomics.add(words, xw(i, X_KILLS_IN_FLIGHT), 1);
  const start = killWindow(i);
  Atomics.add(words, xw(i, X_KILL_SEQ), 1);
  start.killSeq++; // this kill
  const t = tl(i);
  tasklet_kill(t);
  // The verdict first, the closing window after it: a schedule (and its run) slipping in
  // between would otherwise look like a run the kill failed to wait for.
  const verdict = on_kill_return(sh, i, cpu, t.state);
  const end = killWindow(i);
  Atomics.sub(words, xw(i, X_KILLS_IN_FLIGHT), 1);
  if (kill_check_applies(start, end)) fail(verdict);
  on_kill_covers(sh, words, i);
  record_event(sh, i, EventKind.Kill, cpu);
}

function disable(name: TaskletOpName, i: number, cpu: number): void {
  const t = tl(i);
  Atomics.add(words, xw(i, X_HELD), 1);
  if (name === 'disable') tasklet_disable(t);
  else if (name === 'disable_in_atomic') tasklet_disable_in_atomic(t);
  else tasklet_disable_nosync(t);
  // nosync may return while the callback runs: it makes no promise the oracle could check.
  const waited = name !== 'disable_nosync';
  if (waited) fail(on_disable_return(sh, i, cpu));
  record_event(sh, i, EventKind.Disable, cpu);
  held.set(i, [...(held.get(i) ?? []), waited]);
}

function enable(i: number, cpu: number): void {
  const stack = held.get(i) ?? [];
  if (stack.pop() === true) before_enable(sh, i);
  record_event(sh, i, EventKind.Enable, cpu);
  tasklet_enable(tl(i));
  Atomics.sub(words, xw(i, X_HELD), 1);
}

/**
 * A schedule with interrupts off; a private tasklet it queues gets its place for the FIFO oracle.
 * Not in a bh section: an interrupt there may queue the tasklet (on either vector) between the
 * idle check and this schedule.
 */
function scheduleIrqsOff(i: number, cpu: number, hi: boolean): void {
  const placed = fifo_placeable(i) && fifo_idle(sh, words, i, cpu);
  scheduleTracked(i, cpu, hi);
  if (placed) on_fifo_queued(words, i, cpu, hi, offlineCount(cpu));
}

/**
 * The pace op: more self-reschedules (a spent budget counts from zero; a callback running on
 * another CPU after a hot-unplug may be taking one meanwhile), on the op's vector from now on,
 * then the schedule.
 */
function pace(i: number, cpu: number, hi: boolean, irqsOff: boolean): void {
  const budget = tw(i, F_BUDGET);
  for (let seen = Atomics.load(sh, budget); ; ) {
    const was = Atomics.compareExchange(sh, budget, seen, Math.max(0, seen) + SPINNER_RESCHED);
    if (was === seen) break;
    seen = was;
  }
  Atomics.store(words, xw(i, X_RESCHED_HI), hi ? 1 : 0);
  if (irqsOff) scheduleIrqsOff(i, cpu, hi);
  else scheduleTracked(i, cpu, hi);
}

/** G12 on purpose (the orphan op); done only when both tasklets are idle, so the entries land as planned. */
function orphan(op: Extract<Op, { op: 'orphan' }>, cpu: number): void {
  const flags = local_irq_save();
  const probeEnabled = Atomics.load(words, xw(op.probe, X_HELD)) === 0;
  if (probeEnabled && fifo_idle(sh, words, op.t, cpu) && fifo_idle(sh, words, op.probe, cpu)) {
    scheduleTracked(op.t, cpu, op.hi);
    tasklet_setup(tl(op.t), fuzzCallback);
    record_event(sh, op.t, EventKind.Init, cpu);
    on_kill_covers(sh, words, op.t); // the re-init forgot that schedule: no run is owed for it
    on_orphaned(sh, words, op.t, op.probe);
    Atomics.add(words, W_ORPHANS, 1);
    scheduleIrqsOff(op.probe, cpu, op.hi);
  }
  local_irq_restore(flags);
}

/**
 * The race point: here until every CPU has come (or a while has passed), then on at once.
 * Free-running, the early ones spin and leave within a microsecond of the last one's arrival.
 * Under controlled mode they sleep on their wake words and the last one kicks them: a spinner
 * there would be a yielded CPU, which runs only once no other can, so the last to come would
 * run its op alone; woken, they are runnable beside it and the strategy interleaves them.
 */
function awaitRace(cpu: number): void {
  const all = Atomics.load(words, W_THREADS);
  const wake = layout().cpu(cpu) + C_WAKE;
  let seq = raw_load(wake);
  if (Atomics.add(words, W_RACE_ARRIVED, 1) + 1 >= all) {
    for (let other = 0; other < all; other++) if (other !== cpu) kick_cpu(other);
    return;
  }
  const deadline = machineMs() + RACE_WAIT_MS;
  while (Atomics.load(words, W_RACE_ARRIVED) < all && machineMs() < deadline) {
    if (!under_control()) {
      cpu_relax();
      continue;
    }
    cpu_sleep(wake, seq, deadline);
    seq = raw_load(wake);
    interrupt_point(); // an interrupt that woke it is taken here
  }
}

/** Until the pass has been through an orphaned entry: meanwhile a schedule would queue it twice. */
function* awaitProbe(t: number): TaskBody<void> {
  const deadline = machineMs() + PROBE_WAIT_MS;
  while (Atomics.load(sh, tw(t, F_NO_SCHED)) !== 0 && machineMs() < deadline) yield;
}

function taskletOp(name: TaskletOpName, i: number, cpu: number, irqsOff: boolean): void {
  switch (name) {
    case 'schedule':
    case 'hi_schedule':
      if (irqsOff) scheduleIrqsOff(i, cpu, name === 'hi_schedule');
      else scheduleTracked(i, cpu, name === 'hi_schedule');
      return;
    case 'disable':
    case 'disable_nosync':
    case 'disable_in_atomic':
      disable(name, i, cpu);
      return;
    case 'enable':
      enable(i, cpu);
      return;
    case 'kill':
      kill(i, cpu);
      return;
    case 'init': {
      kill(i, cpu);
      // Interrupts off: no handler on this CPU can queue it between the check and the setup.
      const flags = local_irq_save();
      if (tl(i).state === 0) {
        tasklet_setup(tl(i), fuzzCallback);
        record_event(sh, i, EventKind.Init, cpu);
      }
      local_irq_restore(flags);
    }
  }
}

function execute(op: Op, cpu: number, order: OrderPair[] | undefined, irqsOff = false): void {
  const start = tick();
  if (isSection(op)) {
    const flags = op.op === 'irqsave' ? local_irq_save() : 0;
    if (op.op === 'bh') local_bh_disable();
    for (const inner of op.body) execute(inner, cpu, undefined, op.op === 'irqsave');
    for (const [h, n] of order ?? []) on_order_mark(sh, words, h, n);
    if (op.op === 'bh') local_bh_enable();
    else local_irq_restore(flags);
    logInterval(cpu, op.op, start);
    return;
  }
  if (isBhOp(op)) {
    bhOp(op, cpu);
    if (op.op !== 'irq_bh') logInterval(cpu, op.op, start);
    fireArmedIrq();
    return;
  }
  switch (op.op) {
    case 'irq':
      Atomics.add(words, mailbox(op.cpu, op.t, op.hi), 1);
      if (op.cpu === cpu) armIrq(op.at);
      else raise_irq(op.cpu, FUZZ_IRQ);
      return; // the handler logs its own interval
    case 'delay':
      udelay(op.us);
      break;
    case 'race':
      awaitRace(cpu);
      return;
    case 'hotplug':
      Atomics.add(words, W_HOTPLUG + op.cpu, 1);
      notify_controller(); // the controller serves it
      break;
    case 'orphan':
      orphan(op, cpu);
      logInterval(cpu, 'init', start);
      break;
    case 'pace':
      pace(op.t, cpu, op.hi, irqsOff);
      logInterval(cpu, op.hi ? 'hi_schedule' : 'schedule', start);
      break;
    default:
      taskletOp(op.op, op.t, cpu, irqsOff);
      logInterval(cpu, op.op, start);
  }
  fireArmedIrq();
}

export function* fuzzThread(arg: unknown): TaskBody {
  const { generation, setup, ops, orders, fifo } = arg as ThreadArg;
  const deadline = machineMs() + BARRIER_TIMEOUT_MS;
  if (setup !== undefined) {
    // With interrupts off, as the controller's call to it would run (in hard-irq context).
    const flags = local_irq_save();
    programSetup(setup);
    local_irq_restore(flags);
  }
  // The setup zeroes the barrier and seeds the delays: nothing of the program before it is done.
  while (Atomics.load(words, W_GENERATION) !== generation && machineMs() < deadline) cpu_relax();
  // Ops on the last program's tasklets would report that program's state as this one's bugs.
  if (Atomics.load(words, W_GENERATION) !== generation)
    throw new Error(`the setup of program ${generation} did not run within ${BARRIER_TIMEOUT_MS} ms`);
  setFifoPlaceable(fifo);
  const cpu = smp_processor_id();
  const orderAt = new Map(orders);
  held.clear();
  resetHeldWorks();
  restartInjection();
  Atomics.add(words, W_ARRIVED, 1);
  while (Atomics.load(words, W_ARRIVED) < Atomics.load(words, W_THREADS) && machineMs() < deadline)
    cpu_relax();
  for (const [index, op] of ops.entries()) {
    execute(op, cpu, orderAt.get(index));
    if (op.op === 'orphan') yield* awaitProbe(op.t);
    yield; // a preemption point: ksoftirqd may run, and the CPU may go offline here
  }
  fireArmedIrq();
  return cpu;
}
