/**
 * The stress workload, a kernel module: interrupt sources on every CPU whose handlers schedule
 * tasklets, self-rescheduling callbacks, and one process-context task per CPU that disables
 * (three flavours), enables, kills and re-initialises tasklets, schedules inside irq-save and
 * bh-disable sections, and runs ordering and coalescing episodes. Every call is bracketed by
 * the oracles of harness/oracles/; violations go to the controller with report().
 */
import {
  cpu_online,
  cpu_relax,
  defineModule,
  FIRST_DEVICE_IRQ,
  local_bh_disable,
  local_bh_enable,
  local_irq_restore,
  local_irq_save,
  need_resched,
  nr_cpu_ids,
  raise_irq,
  report,
  shared_words,
  smp_processor_id,
  TASKLET_STATE_SCHED,
  type TaskBody,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_disable,
  tasklet_disable_in_atomic,
  tasklet_disable_nosync,
  tasklet_enable,
  tasklet_from_id,
  tasklet_hi_schedule,
  tasklet_kill,
  tasklet_schedule,
  tasklet_setup,
  tasklet_unlock_wait,
  udelay,
} from 'tasklet-rt';
import { attach_tracepoint } from '../../kernel/trace.ts';
import { machineMs } from '../../shm/clock.ts';
import {
  before_enable,
  on_disable_return,
  on_kill_return,
  on_schedule_return,
  on_schedule_start,
  on_trace_entry,
} from '../oracles/call-checks.ts';
import { offlineCount, run_context } from '../oracles/cpu-context.ts';
import type { Violation } from '../oracles/guarantees.ts';
import { on_run_end, on_run_start } from '../oracles/run-checks.ts';
import {
  EventKind,
  F_BUDGET,
  F_CTRL,
  F_EPISODE_ACKS,
  F_EPISODE_OPEN,
  F_EXCLUSIVE,
  F_IN_FLIGHT,
  F_KIND,
  F_OWNER,
  F_PAIR,
  F_RUNS,
  PairState,
  recent_events,
  record_event,
  TaskletKind,
  take_budget,
  tw,
} from '../oracles/shadow.ts';
import { Prng } from '../prng.ts';
import { DEFAULT_MIX, type Mix, pickOp } from './mix.ts';
import { on_episode_end } from './oracles.ts';
import {
  OPS_PER_CPU,
  OpCounter,
  Phase,
  PRIVATE_PER_CPU,
  S_BURST,
  S_DELAY_US,
  S_DRAIN_ACK,
  S_EPOCH,
  S_FIRST_ID,
  S_NR_TASKLETS,
  S_OPS,
  S_ORACLES,
  S_PHASE,
  S_RESCHED_PCT,
  S_SEED,
  S_VIOLATIONS,
  SHADOW_WORDS,
} from './shadow.ts';

export const STRESS_IRQ = FIRST_DEVICE_IRQ;
export const EPISODE_IRQ = FIRST_DEVICE_IRQ + 1;
const BUDGET = 4;
const EPISODE_SCHEDULES = 4;

export const sh = shared_words(SHADOW_WORDS, 'stress-shadow');
/** Per-CPU mailbox for coalescing episodes: stress index + 1 to schedule. */
const mailbox = shared_words(64, 'stress-mailbox');

export interface StressSetup {
  tasklets: number;
  seed: number;
  delayUs: number;
  reschedPct: number;
  burst: number;
  oracles: boolean;
}

export interface StressTaskArg {
  mix: Mix;
}

const handles: TaskletStruct[] = [];
let rng = new Prng(1);

function tl(i: number): TaskletStruct {
  let t = handles[i];
  if (t === undefined) {
    t = tasklet_from_id(Atomics.load(sh, S_FIRST_ID) + i);
    handles[i] = t;
  }
  return t;
}

const count = (cpu: number, counter: OpCounter): void => {
  Atomics.add(sh, S_OPS + cpu * OPS_PER_CPU + counter, 1);
};

function fail(v: Violation | null): void {
  // With the oracles off the shadow is not kept, so a check's verdict means nothing.
  if (v === null || Atomics.load(sh, S_ORACLES) === 0) return;
  Atomics.add(sh, S_VIOLATIONS, 1);
  const name = v.tasklet >= 0 ? `stress${v.tasklet}` : '';
  report('violation', {
    ...v,
    name,
    machineMs: machineMs(),
    events: v.tasklet >= 0 ? recent_events(sh, v.tasklet) : [],
  });
}

/** Layout of the stress tasklets: per CPU a pair (normal, hi) and private ones, then shared. */
const perCpu = 2 + PRIVATE_PER_CPU;
const cpuBlock = (cpu: number): number => cpu * perCpu;
const firstShared = (): number => nr_cpu_ids() * perCpu;

/** A tasklet this CPU may schedule: one of its private ones or a shared one. */
function pickSchedulable(cpu: number): number {
  const shared = Atomics.load(sh, S_NR_TASKLETS) - firstShared();
  if (rng.chance(35)) return cpuBlock(cpu) + 2 + rng.below(PRIVATE_PER_CPU);
  return firstShared() + rng.below(shared);
}

function isHi(i: number): boolean {
  return Atomics.load(sh, tw(i, F_KIND)) === TaskletKind.PairHi || (i & 1) === 1;
}

/** Schedules unless a kill or episode holds the tasklet; the in-flight count closes the race. */
function schedule_tracked(i: number, cpu: number, refill: boolean): boolean {
  Atomics.add(sh, tw(i, F_IN_FLIGHT), 1);
  if (Atomics.load(sh, tw(i, F_EXCLUSIVE)) !== 0) {
    Atomics.sub(sh, tw(i, F_IN_FLIGHT), 1);
    return false;
  }
  schedule_raw(i, cpu);
  if (refill) Atomics.store(sh, tw(i, F_BUDGET), BUDGET);
  Atomics.sub(sh, tw(i, F_IN_FLIGHT), 1);
  return true;
}

function schedule_raw(i: number, cpu: number): void {
  const hi = isHi(i);
  const seq = on_schedule_start(sh, i);
  if (hi) tasklet_hi_schedule(tl(i));
  else tasklet_schedule(tl(i));
  on_schedule_return(sh, i, cpu, seq, offlineCount(cpu));
  record_event(sh, i, hi ? EventKind.HiSchedule : EventKind.Schedule, cpu);
  count(cpu, OpCounter.Schedules);
}

function stress_callback(t: TaskletStruct): void {
  const i = t.id - Atomics.load(sh, S_FIRST_ID);
  const cpu = smp_processor_id();
  const checking = Atomics.load(sh, S_ORACLES) !== 0;
  if (checking) {
    record_event(sh, i, EventKind.RunStart, cpu);
    fail(on_run_start(sh, i, run_context(sh, i, cpu)));
  }
  const delay = Atomics.load(sh, S_DELAY_US);
  if (delay > 0 && rng.chance(30)) udelay(rng.below(delay + 1));
  const kind = Atomics.load(sh, tw(i, F_KIND));
  if (
    kind !== TaskletKind.PairHi &&
    kind !== TaskletKind.PairNormal &&
    Atomics.load(sh, S_PHASE) === Phase.Run &&
    rng.chance(Atomics.load(sh, S_RESCHED_PCT)) &&
    take_budget(sh, i)
  ) {
    schedule_tracked(i, cpu, false);
  }
  if (checking) {
    record_event(sh, i, EventKind.RunEnd, cpu);
    fail(on_run_end(sh, i, cpu));
  }
}

/** Device interrupt: a burst of schedules from this CPU. */
function stress_irq(): void {
  if (Atomics.load(sh, S_PHASE) !== Phase.Run) return;
  const cpu = smp_processor_id();
  const burst = Atomics.load(sh, S_BURST);
  for (let n = 0; n < burst; n++) schedule_tracked(pickSchedulable(cpu), cpu, true);
}

/**
 * Coalescing episode interrupt: schedule the episode's tasklet a few times, then ack. A late
 * interrupt, after its episode closed, schedules nothing (the in-flight count orders the two).
 */
function episode_irq(): void {
  const cpu = smp_processor_id();
  const i = Atomics.exchange(mailbox, cpu, 0) - 1;
  if (i < 0) return;
  Atomics.add(sh, tw(i, F_IN_FLIGHT), 1);
  if (Atomics.load(sh, tw(i, F_EPISODE_OPEN)) !== 0) {
    for (let n = 0; n < EPISODE_SCHEDULES; n++) schedule_raw(i, cpu);
    Atomics.add(sh, tw(i, F_EPISODE_ACKS), 1);
  }
  Atomics.sub(sh, tw(i, F_IN_FLIGHT), 1);
}

function tryControl(i: number, cpu: number): boolean {
  return Atomics.compareExchange(sh, tw(i, F_CTRL), 0, cpu + 1) === 0;
}

function releaseControl(i: number): void {
  Atomics.store(sh, tw(i, F_CTRL), 0);
}

/** Keeps normal schedulers off the tasklet and waits for the ones already inside. */
function takeExclusive(i: number): void {
  Atomics.store(sh, tw(i, F_EXCLUSIVE), 1);
  while (Atomics.load(sh, tw(i, F_IN_FLIGHT)) !== 0) cpu_relax();
}

function* disableOp(cpu: number): TaskBody {
  const i = pickSchedulable(cpu);
  if (!tryControl(i, cpu)) return;
  const t = tl(i);
  const flavour = rng.below(3);
  if (flavour === 0) {
    tasklet_disable(t);
  } else if (flavour === 1) {
    tasklet_disable_nosync(t);
    tasklet_unlock_wait(t);
  } else {
    local_bh_disable();
    tasklet_disable_in_atomic(t);
  }
  fail(on_disable_return(sh, i, cpu));
  if (flavour === 2) local_bh_enable();
  record_event(sh, i, EventKind.Disable, cpu);
  count(cpu, OpCounter.Disables);
  const nested = rng.chance(25);
  if (nested) tasklet_disable_nosync(t);
  if (rng.chance(50) && schedule_tracked(i, cpu, true) && (t.state & (1 << TASKLET_STATE_SCHED)) === 0) {
    fail({
      oracle: 'disabled',
      guarantee: 8,
      tasklet: i,
      cpus: [cpu],
      message: 'scheduled while disabled but SCHED is clear',
    });
  }
  if (rng.chance(50))
    yield; // stay disabled across a schedule() so other CPUs meet it
  else udelay(rng.below(20));
  if (nested) tasklet_enable(t);
  before_enable(sh, i);
  record_event(sh, i, EventKind.Enable, cpu);
  tasklet_enable(t);
  releaseControl(i);
}

function killOp(cpu: number): void {
  const i = pickSchedulable(cpu);
  if (!tryControl(i, cpu)) return;
  const t = tl(i);
  takeExclusive(i);
  tasklet_kill(t);
  fail(on_kill_return(sh, i, cpu, t.state));
  record_event(sh, i, EventKind.Kill, cpu);
  count(cpu, OpCounter.Kills);
  if (rng.chance(50)) {
    const flags = local_irq_save();
    if (t.state === 0) {
      tasklet_setup(t, stress_callback);
      record_event(sh, i, EventKind.Init, cpu);
    }
    local_irq_restore(flags);
  }
  Atomics.store(sh, tw(i, F_EXCLUSIVE), 0);
  releaseControl(i);
}

function sectionOp(cpu: number, irqsOff: boolean): void {
  const n = 1 + rng.below(3);
  const flags = irqsOff ? local_irq_save() : 0;
  if (!irqsOff) local_bh_disable();
  for (let k = 0; k < n; k++) schedule_tracked(pickSchedulable(cpu), cpu, true);
  udelay(rng.below(6));
  if (irqsOff) local_irq_restore(flags);
  else local_bh_enable();
  count(cpu, OpCounter.Sections);
}

/** Normal then HI, in one irqs-off section: the HI one must run first. */
function pairOp(cpu: number): void {
  const normal = cpuBlock(cpu);
  if (Atomics.compareExchange(sh, tw(normal, F_PAIR), PairState.Idle, PairState.Pending) !== PairState.Idle)
    return;
  const flags = local_irq_save();
  schedule_raw(normal, cpu);
  schedule_raw(normal + 1, cpu);
  local_irq_restore(flags);
}

/** Disable a shared tasklet, schedule it from every CPU, enable: exactly one run. */
function* coalesceOp(cpu: number): TaskBody {
  const shared = Atomics.load(sh, S_NR_TASKLETS) - firstShared();
  const i = firstShared() + rng.below(shared);
  if (!tryControl(i, cpu)) return;
  const t = tl(i);
  takeExclusive(i);
  tasklet_disable(t);
  fail(on_disable_return(sh, i, cpu));
  const runsBefore = Atomics.load(sh, tw(i, F_RUNS));
  Atomics.store(sh, tw(i, F_EPISODE_ACKS), 0);
  Atomics.store(sh, tw(i, F_EPISODE_OPEN), 1);
  let targets = 0;
  for (let other = 0; other < nr_cpu_ids(); other++) {
    if (other === cpu || !cpu_online(other) || Atomics.compareExchange(mailbox, other, 0, i + 1) !== 0)
      continue;
    raise_irq(other, EPISODE_IRQ);
    targets++;
  }
  for (let n = 0; n < EPISODE_SCHEDULES; n++) schedule_raw(i, cpu);
  for (let waits = 0; Atomics.load(sh, tw(i, F_EPISODE_ACKS)) < targets && waits < 200; waits++) yield;
  Atomics.store(sh, tw(i, F_EPISODE_OPEN), 0);
  while (Atomics.load(sh, tw(i, F_IN_FLIGHT)) !== 0) cpu_relax();
  const schedules = EPISODE_SCHEDULES * (Atomics.load(sh, tw(i, F_EPISODE_ACKS)) + 1);
  before_enable(sh, i);
  tasklet_enable(t);
  // Its run, and any second run a broken schedule could have queued, happen within a few passes.
  for (
    let waits = 0;
    (Atomics.load(sh, tw(i, F_RUNS)) === runsBefore || t.state !== 0) && waits < 400;
    waits++
  )
    yield;
  for (let waits = 0; waits < 4; waits++) yield;
  if (t.state === 0) fail(on_episode_end(sh, i, runsBefore, schedules));
  count(cpu, OpCounter.Episodes);
  Atomics.store(sh, tw(i, F_EXCLUSIVE), 0);
  releaseControl(i);
}

function* stress_task(arg: unknown): TaskBody {
  const mix = (arg as StressTaskArg | null)?.mix ?? DEFAULT_MIX;
  const cpu = smp_processor_id();
  rng = new Prng((Atomics.load(sh, S_SEED) ^ Math.imul(cpu + 1, 0x9e3779b1)) >>> 0);
  for (let ops = 1; ; ops++) {
    const phase = Atomics.load(sh, S_PHASE);
    if (phase === Phase.Stop) return;
    if (phase === Phase.Drain) {
      Atomics.store(sh, S_DRAIN_ACK + cpu, Atomics.load(sh, S_EPOCH));
      yield;
      continue;
    }
    switch (pickOp(mix, rng.next())) {
      case 'sched':
        schedule_tracked(pickSchedulable(cpu), cpu, true);
        break;
      case 'irq':
        raise_irq(rng.below(nr_cpu_ids()), STRESS_IRQ);
        count(cpu, OpCounter.Irqs);
        break;
      case 'disable':
        yield* disableOp(cpu);
        break;
      case 'kill':
        killOp(cpu);
        break;
      case 'irqsave':
        sectionOp(cpu, true);
        break;
      case 'bh':
        sectionOp(cpu, false);
        break;
      case 'pair':
        pairOp(cpu);
        break;
      case 'coalesce':
        yield* coalesceOp(cpu);
        break;
    }
    if (need_resched() || ops % 32 === 0) yield;
  }
}

/**
 * Oracle 15 listens on the runtime's tracepoints: per CPU, tasklet_entry and tasklet_exit must
 * alternate for the same tasklet, and each stress run must have produced one entry.
 */
function install_trace_oracle(): void {
  let open = -1;
  attach_tracepoint('tasklet_entry', (id) => {
    const i = id - Atomics.load(sh, S_FIRST_ID);
    if (open !== -1) traceViolation(i, `tasklet_entry for #${id} inside the entry of #${open}`);
    open = id;
    if (i >= 0 && i < Atomics.load(sh, S_NR_TASKLETS)) on_trace_entry(sh, i);
  });
  attach_tracepoint('tasklet_exit', (id) => {
    if (open !== id)
      traceViolation(id - Atomics.load(sh, S_FIRST_ID), `tasklet_exit for #${id} without its entry`);
    open = -1;
  });
}

function traceViolation(i: number, message: string): void {
  if (Atomics.load(sh, S_ORACLES) === 0) return;
  fail({ oracle: 'trace', guarantee: 15, tasklet: i, cpus: [smp_processor_id()], message });
}

/** Runs on one CPU before the tasks start: allocates and lays out the stress tasklets. */
function stress_setup(arg: unknown): number {
  const setup = arg as StressSetup;
  const cpus = nr_cpu_ids();
  if (setup.tasklets < cpus * perCpu + 2)
    throw new Error(`need at least ${cpus * perCpu + 2} tasklets for ${cpus} CPUs`);
  let first = -1;
  for (let i = 0; i < setup.tasklets; i++) {
    const t = tasklet_alloc(`stress${i}`);
    if (first < 0) first = t.id;
    if (t.id !== first + i)
      throw new Error('stress tasklets must be allocated contiguously (boot a fresh machine)');
    tasklet_setup(t, stress_callback);
    const cpu = Math.floor(i / perCpu);
    const slot = i % perCpu;
    const kind =
      cpu >= cpus
        ? TaskletKind.Shared
        : slot === 0
          ? TaskletKind.PairNormal
          : slot === 1
            ? TaskletKind.PairHi
            : TaskletKind.Private;
    Atomics.store(sh, tw(i, F_KIND), kind);
    Atomics.store(sh, tw(i, F_OWNER), kind === TaskletKind.Shared ? 0 : cpu + 1);
  }
  Atomics.store(sh, S_FIRST_ID, first);
  Atomics.store(sh, S_NR_TASKLETS, setup.tasklets);
  Atomics.store(sh, S_SEED, setup.seed);
  Atomics.store(sh, S_DELAY_US, setup.delayUs);
  Atomics.store(sh, S_RESCHED_PCT, setup.reschedPct);
  Atomics.store(sh, S_BURST, setup.burst);
  Atomics.store(sh, S_ORACLES, setup.oracles ? 1 : 0);
  return first;
}

export default defineModule({
  name: 'stress',
  callbacks: [stress_callback],
  irqs: {
    [STRESS_IRQ]: { name: 'stress-dev', handler: stress_irq },
    [EPISODE_IRQ]: { name: 'stress-episode', handler: episode_irq },
  },
  calls: { stress_setup },
  cpu_init: install_trace_oracle,
  tasks: { stress: stress_task },
});
