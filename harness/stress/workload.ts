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
  in_hardirq,
  in_serving_softirq,
  local_bh_disable,
  local_bh_enable,
  local_irq_restore,
  local_irq_save,
  msleep,
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
  tasklet_init,
  tasklet_kill,
  tasklet_schedule,
  tasklet_setup,
  tasklet_trylock,
  tasklet_unlock,
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
import { exit_jiffies, install_vector_probe, offlineCount, run_context } from '../oracles/cpu-context.ts';
import { counted_disable, counted_enable } from '../oracles/disable-count.ts';
import { type Violation, violation } from '../oracles/guarantees.ts';
import { on_run_end, on_run_start } from '../oracles/run-checks.ts';
import {
  EventKind,
  F_BUDGET,
  F_COVERED,
  F_CTRL,
  F_EPISODE_ACKS,
  F_EPISODE_OPEN,
  F_EXCLUSIVE,
  F_FIFO,
  F_IN_FLIGHT,
  F_INSIDE,
  F_KIND,
  F_NO_SCHED,
  F_OWNER,
  F_PAIR,
  F_RUNS,
  F_SCHED_SEQ,
  F_SLOW_US,
  F_SPIN,
  F_TRYLOCKS,
  INSIDE_TRYLOCK,
  insideCpu,
  insideWhat,
  PairState,
  recent_events,
  record_event,
  TaskletKind,
  take_budget,
  tw,
} from '../oracles/shadow.ts';
import { Prng } from '../prng.ts';
import { attach_stress_words, bh_op } from './bh-workload.ts';
import { COVERAGE_WORDS, type CoverageKind, cov_begin, cov_end, kindIndex, Slot } from './coverage.ts';
import { isKernelReport, SCHED_NOT_SET } from './kernel-reports.ts';
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
  S_G12_DONE,
  S_G12_OPEN,
  S_G12_WARNED,
  S_NR_TASKLETS,
  S_OPS,
  S_ORACLES,
  S_PHASE,
  S_REPORTS,
  S_RESCHED_PCT,
  S_SEED,
  S_VIOLATIONS,
  SHADOW_WORDS,
} from './shadow.ts';

export const STRESS_IRQ = FIRST_DEVICE_IRQ;
export const EPISODE_IRQ = FIRST_DEVICE_IRQ + 1;
/** Schedules the tasklet a racing kill or a contended trylock is after (raceMailbox). */
export const RACE_IRQ = FIRST_DEVICE_IRQ + 2;
/** Disables (nosync) and enables a tasklet from interrupt context (disableMailbox). */
export const DISABLE_IRQ = FIRST_DEVICE_IRQ + 3;
/** Starts a spinner from this CPU's own interrupt (spinMailbox), so a pass bound is met in irq_exit. */
export const SPIN_IRQ = FIRST_DEVICE_IRQ + 7;
/** Self-reschedules of a spinning tasklet: more than the passes one softirq invocation may make. */
const SPIN_BUDGET = 24;
/** A slow spinner's busy-wait per run: ten of them pass a tick at HZ up to 1000/(2*0.7). */
const SPIN_DELAY_US = 700;
/** Machine time a FIFO episode waits for the runs it expects before it gives up (and judges nothing). */
const EPISODE_WAIT_MS = 500;
/** Machine time a kill pair waits for its partner's task to take the request before it kills alone. */
const PARTNER_WAIT_MS = 2;
/** Tries a contended trylock makes (trylockOp). */
const CONTENDED_TRYLOCKS = 32;
/** A kill pair's callback busy-waits this long, so that both kills meet it running. */
const KILL_PAIR_RUN_US = 200;
const BUDGET = 4;
const EPISODE_SCHEDULES = 4;

export const sh = shared_words(SHADOW_WORDS, 'stress-shadow');
/** Per-CPU mailbox for coalescing episodes: stress index + 1 to schedule. */
const mailbox = shared_words(64, 'stress-mailbox');
const raceMailbox = shared_words(64, 'stress-race-mailbox');
const disableMailbox = shared_words(64, 'stress-disable-mailbox');
const spinMailbox = shared_words(64, 'stress-spin-mailbox');
/** Per-CPU kill requests for a kill pair: stress index + 1 posted, -(index + 1) while this CPU's task kills it. */
const killMailbox = shared_words(64, 'stress-kill-mailbox');
export const cov = shared_words(COVERAGE_WORDS, 'stress-coverage');

/** Coverage of an op of `kind` on this CPU, in the slot of the context it runs in. */
function covered<T>(kind: CoverageKind, slot: Slot, body: () => T): T {
  const cpu = smp_processor_id();
  cov_begin(cov, nr_cpu_ids(), cpu, slot, kindIndex(kind));
  try {
    return body();
  } finally {
    cov_end(cov, cpu, slot);
  }
}
const slotNow = (): Slot =>
  in_hardirq() ? Slot.Hardirq : in_serving_softirq() ? Slot.Softirq : Slot.Process;

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

/** A shared tasklet: the one kind other CPUs' interrupts may schedule on this CPU's behalf (G5). */
function pickShared(): number {
  return firstShared() + rng.below(Atomics.load(sh, S_NR_TASKLETS) - firstShared());
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
  covered(hi ? 'hi_schedule' : 'schedule', slotNow(), () => {
    if (hi) tasklet_hi_schedule(tl(i));
    else tasklet_schedule(tl(i));
  });
  on_schedule_return(sh, i, cpu, seq, offlineCount(cpu));
  record_event(sh, i, hi ? EventKind.HiSchedule : EventKind.Schedule, cpu);
  count(cpu, OpCounter.Schedules);
}

function stress_callback(t: TaskletStruct): void {
  run_body(t.id - Atomics.load(sh, S_FIRST_ID));
}

/** The old-style function (tasklet_init, DECLARE_TASKLET_OLD): its data is the stress index. */
function stress_func(data: number): void {
  run_body(data);
}

function run_body(i: number): void {
  const cpu = smp_processor_id();
  const checking = Atomics.load(sh, S_ORACLES) !== 0;
  if (checking) {
    record_event(sh, i, EventKind.RunStart, cpu);
    fail(on_run_start(sh, i, run_context(sh, i, cpu)));
    fail(check_fifo(i, cpu));
    if (Atomics.load(sh, tw(i, F_NO_SCHED)) !== 0) {
      fail(
        violation(
          'queued-without-sched',
          i,
          [cpu],
          `callback ran on CPU${cpu} though the tasklet was found queued without SCHED (it must be skipped)`,
        ),
      );
    }
  }
  cov_begin(cov, nr_cpu_ids(), cpu, Slot.Softirq, kindIndex('run'));
  const delay = Atomics.load(sh, S_DELAY_US);
  if (delay > 0 && rng.chance(30)) udelay(rng.below(delay + 1));
  const slow = Atomics.exchange(sh, tw(i, F_SLOW_US), 0);
  if (slow > 0) udelay(slow);
  const kind = Atomics.load(sh, tw(i, F_KIND));
  const spin = Atomics.load(sh, tw(i, F_SPIN));
  if (spin !== 0) {
    // A spinner reschedules itself on every run: it meets the pass bounds (G13).
    if (Atomics.load(sh, S_PHASE) === Phase.Run && take_budget(sh, i)) {
      if (spin === 2) udelay(SPIN_DELAY_US);
      if (!schedule_tracked(i, cpu, false)) Atomics.store(sh, tw(i, F_SPIN), 0);
    } else {
      Atomics.store(sh, tw(i, F_SPIN), 0);
    }
  } else if (
    kind !== TaskletKind.PairHi &&
    kind !== TaskletKind.PairNormal &&
    Atomics.load(sh, S_PHASE) === Phase.Run &&
    rng.chance(Atomics.load(sh, S_RESCHED_PCT)) &&
    take_budget(sh, i)
  ) {
    schedule_tracked(i, cpu, false);
  }
  cov_end(cov, cpu, Slot.Softirq);
  if (checking) {
    record_event(sh, i, EventKind.RunEnd, cpu);
    fail(on_run_end(sh, i, cpu, exit_jiffies()));
  }
}

/** Device interrupt: a burst of schedules from this CPU. */
function stress_irq(): void {
  if (Atomics.load(sh, S_PHASE) !== Phase.Run) return;
  const cpu = smp_processor_id();
  const burst = Atomics.load(sh, S_BURST);
  for (let n = 0; n < burst; n++) schedule_tracked(pickSchedulable(cpu), cpu, true);
  if (rng.chance(20)) irq_disable_enable(pickSchedulable(cpu), cpu);
}

/** A racing kill's partner: schedules the tasklet being killed, from interrupt context. */
function race_irq(): void {
  const cpu = smp_processor_id();
  const i = Atomics.exchange(raceMailbox, cpu, 0) - 1;
  if (i < 0) return;
  for (let n = 0; n < 2; n++) schedule_tracked(i, cpu, true);
}

/** A spinner's first schedule, from interrupt context: its invocation runs in this irq's irq_exit. */
function spin_irq(): void {
  const cpu = smp_processor_id();
  const i = Atomics.exchange(spinMailbox, cpu, 0) - 1;
  if (i >= 0 && !schedule_tracked(i, cpu, false)) Atomics.store(sh, tw(i, F_SPIN), 0);
}

/** Several CPUs disable and enable one tasklet at once from interrupt context. */
function disable_irq(): void {
  const cpu = smp_processor_id();
  const i = Atomics.exchange(disableMailbox, cpu, 0) - 1;
  if (i >= 0) irq_disable_enable(i, cpu);
}

/**
 * tasklet_disable_nosync, maybe a schedule, tasklet_enable, in atomic context: nothing waits, so
 * nothing is judged here; a lost update of the count shows as a run while disabled (G8) or a
 * tasklet that never runs again (G4). Kept off tasklets a kill or an episode holds.
 */
function irq_disable_enable(i: number, cpu: number): void {
  Atomics.add(sh, tw(i, F_IN_FLIGHT), 1);
  if (Atomics.load(sh, tw(i, F_EXCLUSIVE)) === 0) {
    const t = tl(i);
    covered('irq_disable', slotNow(), () => {
      counted_disable(sh, i, () => tasklet_disable_nosync(t));
      if (rng.chance(50)) udelay(rng.below(5));
      if (rng.chance(30)) schedule_raw(i, cpu);
      counted_enable(sh, i, () => tasklet_enable(t));
    });
  }
  Atomics.sub(sh, tw(i, F_IN_FLIGHT), 1);
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
  const trylocks = Atomics.load(sh, tw(i, F_TRYLOCKS));
  if (flavour === 0) {
    covered('disable', Slot.Process, () => counted_disable(sh, i, () => tasklet_disable(t)));
  } else if (flavour === 1) {
    covered('disable_nosync', Slot.Process, () => counted_disable(sh, i, () => tasklet_disable_nosync(t)));
    covered('unlock_wait', Slot.Process, () => tasklet_unlock_wait(t));
  } else {
    local_bh_disable();
    covered('disable_in_atomic', Slot.Process, () =>
      counted_disable(sh, i, () => tasklet_disable_in_atomic(t)),
    );
  }
  fail(on_disable_return(sh, i, cpu, trylocks));
  if (flavour === 2) local_bh_enable();
  record_event(sh, i, EventKind.Disable, cpu);
  count(cpu, OpCounter.Disables);
  const nested = rng.chance(25);
  if (nested) counted_disable(sh, i, () => tasklet_disable_nosync(t));
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
  if (nested) counted_enable(sh, i, () => tasklet_enable(t));
  before_enable(sh, i);
  record_event(sh, i, EventKind.Enable, cpu);
  covered('enable', Slot.Process, () => counted_enable(sh, i, () => tasklet_enable(t)));
  releaseControl(i);
}

function killOp(cpu: number): void {
  const i = pickSchedulable(cpu);
  if (!tryControl(i, cpu)) return;
  const t = tl(i);
  takeExclusive(i);
  killIdle(i, cpu);
  if (rng.chance(50)) {
    const flags = local_irq_save();
    if (t.state === 0) {
      // Both forms: tasklet_setup (callback) and the old tasklet_init (func, data).
      if (rng.chance(50)) covered('setup', Slot.Process, () => tasklet_setup(t, stress_callback));
      else covered('init_old', Slot.Process, () => tasklet_init(t, stress_func, i));
      record_event(sh, i, EventKind.Init, cpu);
    }
    local_irq_restore(flags);
  }
  Atomics.store(sh, tw(i, F_EXCLUSIVE), 0);
  releaseControl(i);
}

/** tasklet_kill on a tasklet this CPU holds exclusively; it is idle afterwards (check 10). */
function killIdle(i: number, cpu: number): void {
  const t = tl(i);
  covered('kill', Slot.Process, () => tasklet_kill(t));
  fail(on_kill_return(sh, i, cpu, t.state));
  record_event(sh, i, EventKind.Kill, cpu);
  count(cpu, OpCounter.Kills);
}

/**
 * A kill that races schedules from interrupts on other CPUs (the tasklet is not held
 * exclusively). What it returns to is not judged (a racing schedule may queue it again at once),
 * and a schedule that overlapped the kill may legitimately be lost (it met the kill's SCHED):
 * those are exempt from check 4. Everything else (structure, hangs, later runs) stays checked.
 */
function racingKillOp(cpu: number): void {
  const i = pickShared();
  if (!tryControl(i, cpu)) return;
  const t = tl(i);
  raisePartners(i, cpu);
  if (rng.chance(50)) schedule_tracked(i, cpu, true);
  covered('racing_kill', Slot.Process, () => tasklet_kill(t));
  const seq = Atomics.load(sh, tw(i, F_SCHED_SEQ));
  for (let c = Atomics.load(sh, tw(i, F_COVERED)); c < seq; c = Atomics.load(sh, tw(i, F_COVERED))) {
    if (Atomics.compareExchange(sh, tw(i, F_COVERED), c, seq) === c) break;
  }
  record_event(sh, i, EventKind.Kill, cpu);
  count(cpu, OpCounter.Kills);
  releaseControl(i);
}

/**
 * Two tasklet_kill calls of one tasklet at once, from process context on two CPUs: this one and
 * a partner whose task takes the request from its mailbox. The tasklet is held exclusively and
 * scheduled first, most times with a long run, so both kills meet it queued or running: the
 * second to find SCHED taken sleeps while the first one holds it, and only the first one's
 * tasklet_clear_sched can wake it (a lost wake-up there hangs that kill). Once both have
 * returned the tasklet must be idle (check 10).
 */
function* killPairOp(cpu: number): TaskBody {
  const i = pickShared();
  if (!tryControl(i, cpu)) return;
  const t = tl(i);
  takeExclusive(i);
  if (rng.chance(75)) Atomics.store(sh, tw(i, F_SLOW_US), KILL_PAIR_RUN_US);
  schedule_raw(i, cpu);
  const partner = postKill(i, cpu);
  covered('kill_pair', Slot.Process, () => tasklet_kill(t));
  record_event(sh, i, EventKind.Kill, cpu);
  count(cpu, OpCounter.Kills);
  if (partner >= 0) {
    while (Atomics.load(killMailbox, partner) === -(i + 1)) {
      serveKillRequest(cpu); // the partner may be waiting for this CPU's half of its own pair
      yield;
    }
  }
  Atomics.store(sh, tw(i, F_SLOW_US), 0);
  fail(on_kill_return(sh, i, cpu, t.state));
  Atomics.store(sh, tw(i, F_EXCLUSIVE), 0);
  releaseControl(i);
}

/**
 * Posts a kill of `i` to another online CPU's task and waits until that task has taken it;
 * the partner CPU, or -1 if none took it in time (the request is withdrawn).
 */
function postKill(i: number, cpu: number): number {
  const cpus = nr_cpu_ids();
  const first = rng.below(cpus);
  for (let k = 0; k < cpus; k++) {
    const other = (first + k) % cpus;
    if (other === cpu || !cpu_online(other) || Atomics.compareExchange(killMailbox, other, 0, i + 1) !== 0)
      continue;
    const deadline = machineMs() + PARTNER_WAIT_MS;
    while (Atomics.load(killMailbox, other) === i + 1) {
      if (machineMs() >= deadline && Atomics.compareExchange(killMailbox, other, i + 1, 0) === i + 1)
        return -1;
      cpu_relax();
    }
    return other;
  }
  return -1;
}

/** The partner's half of a kill pair, taken at the top of its task's loop. */
function serveKillRequest(cpu: number): void {
  const posted = Atomics.load(killMailbox, cpu);
  if (posted <= 0 || Atomics.compareExchange(killMailbox, cpu, posted, -posted) !== posted) return;
  const i = posted - 1;
  const t = tl(i);
  covered('kill_pair', Slot.Process, () => tasklet_kill(t));
  // The poster's kill may hold SCHED still; the callback must not be running.
  fail(on_kill_return(sh, i, cpu, t.state & ~(1 << TASKLET_STATE_SCHED)));
  record_event(sh, i, EventKind.Kill, cpu);
  count(cpu, OpCounter.Kills);
  Atomics.store(killMailbox, cpu, 0);
}

/** Asks up to two other CPUs' interrupts to schedule `i` twice each (race_irq). */
function raisePartners(i: number, cpu: number): void {
  let partners = 0;
  for (let other = 0; other < nr_cpu_ids() && partners < 2; other++) {
    if (other === cpu || !cpu_online(other) || Atomics.compareExchange(raceMailbox, other, 0, i + 1) !== 0)
      continue;
    raise_irq(other, RACE_IRQ);
    partners++;
  }
}

/** Several CPUs (interrupts) and this one disable and enable one tasklet at the same time. */
function multiDisableOp(cpu: number): void {
  const i = pickShared();
  for (let other = 0; other < nr_cpu_ids(); other++) {
    if (other === cpu || !cpu_online(other) || Atomics.compareExchange(disableMailbox, other, 0, i + 1) !== 0)
      continue;
    raise_irq(other, DISABLE_IRQ);
  }
  Atomics.add(sh, tw(i, F_IN_FLIGHT), 1);
  if (Atomics.load(sh, tw(i, F_EXCLUSIVE)) === 0) {
    const t = tl(i);
    covered('disable_nosync', Slot.Process, () => counted_disable(sh, i, () => tasklet_disable_nosync(t)));
    udelay(rng.below(5));
    covered('enable', Slot.Process, () => counted_enable(sh, i, () => tasklet_enable(t)));
  }
  Atomics.sub(sh, tw(i, F_IN_FLIGHT), 1);
}

/**
 * The RUN bit as a lock from process context: while this CPU holds it, the callback must not
 * start anywhere (check 1, judged by the shadow's inside word, not by the bit). Half the time
 * it is contended: interrupts on other CPUs schedule a shared tasklet while this CPU tries to
 * take its lock again and again, so that this trylock meets tasklet_action's on another CPU.
 */
function trylockOp(cpu: number): void {
  const contended = rng.chance(50);
  const i = contended ? pickShared() : pickSchedulable(cpu);
  if (contended) raisePartners(i, cpu);
  Atomics.add(sh, tw(i, F_IN_FLIGHT), 1);
  if (Atomics.load(sh, tw(i, F_EXCLUSIVE)) === 0) {
    const t = tl(i);
    covered('trylock', Slot.Process, () => {
      for (let tries = contended ? CONTENDED_TRYLOCKS : 1; tries > 0; tries--) {
        if (tasklet_trylock(t)) holdRunLock(t, i, cpu);
        else cpu_relax();
      }
    });
  }
  Atomics.sub(sh, tw(i, F_IN_FLIGHT), 1);
}

/** Inside a tasklet_trylock that succeeded: nobody may be in the callback until the unlock. */
function holdRunLock(t: TaskletStruct, i: number, cpu: number): void {
  Atomics.add(sh, tw(i, F_TRYLOCKS), 1);
  const mine = cpu + 1 + INSIDE_TRYLOCK;
  const other = Atomics.compareExchange(sh, tw(i, F_INSIDE), 0, mine);
  if (other !== 0) {
    fail(
      violation(
        'mutual-exclusion',
        i,
        [insideCpu(other), cpu],
        `tasklet_trylock succeeded on CPU${cpu} while ${insideWhat(other)}`,
      ),
    );
  }
  udelay(rng.below(8));
  if (other === 0) Atomics.compareExchange(sh, tw(i, F_INSIDE), mine, 0);
  tasklet_unlock(t);
}

/**
 * Makes one of this CPU's private tasklets reschedule itself on every run for a while (G13).
 * Half the time the spin starts from this CPU's own interrupt and the task then sleeps: the
 * invocation in irq_exit meets a bound and defers, and the CPU would go idle unless ksoftirqd
 * was woken for the leftover (the idle loop reports pending softirq work, as NOHZ does).
 */
function* spinOp(cpu: number): TaskBody {
  const i = cpuBlock(cpu) + 2 + rng.below(PRIVATE_PER_CPU);
  if (Atomics.load(sh, tw(i, F_SPIN)) !== 0) return;
  Atomics.store(sh, tw(i, F_BUDGET), SPIN_BUDGET);
  Atomics.store(sh, tw(i, F_SPIN), rng.chance(30) ? 2 : 1);
  if (rng.chance(50)) {
    covered('spin', Slot.Hardirq, () => {
      Atomics.store(spinMailbox, cpu, i + 1);
      raise_irq(cpu, SPIN_IRQ);
    });
    yield* msleep(2);
    return;
  }
  covered('spin', Slot.Process, () => {
    if (!schedule_tracked(i, cpu, false)) Atomics.store(sh, tw(i, F_SPIN), 0);
  });
}

/** `n` distinct tasklets this CPU may schedule that go on one queue (all HI or all normal). */
function pickSameQueue(cpu: number, n: number): number[] {
  const hi = rng.chance(50);
  const candidates: number[] = [];
  for (let k = 0; k < PRIVATE_PER_CPU; k++) {
    const i = cpuBlock(cpu) + 2 + k;
    if (isHi(i) === hi) candidates.push(i);
  }
  for (let i = firstShared(); i < Atomics.load(sh, S_NR_TASKLETS); i++)
    if (isHi(i) === hi) candidates.push(i);
  const picked: number[] = [];
  while (picked.length < n && candidates.length > 0)
    picked.push(candidates.splice(rng.below(candidates.length), 1)[0]);
  return picked;
}

/** Control and exclusivity of every tasklet in `list`, each killed idle; false (holding none) if one is busy. */
function acquireIdle(list: number[], cpu: number): boolean {
  for (let k = 0; k < list.length; k++) {
    if (tryControl(list[k], cpu)) continue;
    for (let j = 0; j < k; j++) releaseControl(list[j]);
    return false;
  }
  for (const i of list) {
    takeExclusive(i);
    killIdle(i, cpu);
  }
  return true;
}

function releaseAll(list: number[]): void {
  for (const i of list) {
    Atomics.store(sh, tw(i, F_EXCLUSIVE), 0);
    releaseControl(i);
  }
}

const fifoProgress = (cpu: number): number => S_OPS + cpu * OPS_PER_CPU + OpCounter.FifoProgress;

/** At a run start: a FIFO episode's tasklet must run right after the one before it (G7). */
function check_fifo(i: number, cpu: number): Violation | null {
  const word = Atomics.exchange(sh, tw(i, F_FIFO), 0);
  if (word === 0) return null;
  const owner = (word >>> 16) - 1;
  const pos = word & 0xffff;
  const prev = Atomics.exchange(sh, fifoProgress(owner), pos);
  if (prev === pos - 1) return null;
  return violation(
    'fifo',
    i,
    owner === cpu ? [cpu] : [owner, cpu],
    prev >= pos
      ? `ran on CPU${cpu} as #${pos} of the tasklets CPU${owner} queued in one irqs-off section, after #${prev}: not FIFO${pos > 1 ? ' (or a requeued entry did not go to the tail)' : ''}`
      : `ran on CPU${cpu} as #${pos} of the tasklets CPU${owner} queued in one irqs-off section, but #${prev + 1} has not run yet: not FIFO`,
  );
}

/**
 * G7's second half: 2-4 idle tasklets of one queue, some of them disabled, scheduled in one
 * irqs-off section (so they sit together in this CPU's queue, in this order). The enabled ones
 * must run in that order; the disabled ones are put back to the tail, in their order, and once
 * enabled (after the others ran) must run in that order, after them. Hot-unplug moves the queue
 * whole, so the order holds across it.
 */
function* fifoOp(cpu: number): TaskBody {
  const picked = pickSameQueue(cpu, 2 + rng.below(3));
  if (picked.length < 2 || !acquireIdle(picked, cpu)) return;
  cov_begin(cov, nr_cpu_ids(), cpu, Slot.Process, kindIndex('fifo'));
  const nDisabled = rng.below(Math.min(2, picked.length - 1) + 1);
  const disabled = picked.slice(0, nDisabled);
  const order = [...picked];
  for (let k = order.length - 1; k > 0; k--) {
    const j = rng.below(k + 1);
    [order[k], order[j]] = [order[j], order[k]];
  }
  for (const d of disabled) {
    covered('disable', Slot.Process, () => counted_disable(sh, d, () => tasklet_disable(tl(d))));
    fail(on_disable_return(sh, d, cpu));
  }
  const enabledOrder = order.filter((x) => !disabled.includes(x));
  const disabledOrder = order.filter((x) => disabled.includes(x));
  const runsBefore = new Map(picked.map((x) => [x, Atomics.load(sh, tw(x, F_RUNS))]));
  const ran = (list: number[]): boolean =>
    list.every((x) => Atomics.load(sh, tw(x, F_RUNS)) > runsBefore.get(x)!);
  Atomics.store(sh, fifoProgress(cpu), 0);
  [...enabledOrder, ...disabledOrder].forEach((x, k) => {
    Atomics.store(sh, tw(x, F_FIFO), ((cpu + 1) << 16) | (k + 1));
  });
  const flags = local_irq_save();
  const offlineAtStart = offlineCount(cpu);
  for (const x of order) schedule_raw(x, cpu);
  local_irq_restore(flags);
  let deadline = machineMs() + EPISODE_WAIT_MS;
  while (!ran(enabledOrder) && machineMs() < deadline) yield;
  if (!ran(enabledOrder)) for (const x of picked) Atomics.store(sh, tw(x, F_FIFO), 0);
  // With this CPU's interrupts off no pass can run between the enables, provided the disabled
  // ones are still on this CPU's queue: if it went offline meanwhile, they are on another CPU's,
  // whose pass may meet one enabled and the next not yet (a legal reordering): not judged then.
  const flags2 = local_irq_save();
  if (offlineCount(cpu) !== offlineAtStart)
    for (const d of disabledOrder) Atomics.store(sh, tw(d, F_FIFO), 0);
  for (const d of disabledOrder) {
    before_enable(sh, d);
    covered('enable', Slot.Process, () => counted_enable(sh, d, () => tasklet_enable(tl(d))));
  }
  local_irq_restore(flags2);
  deadline = machineMs() + EPISODE_WAIT_MS;
  while (!ran(picked) && machineMs() < deadline) yield;
  for (const x of picked) Atomics.store(sh, tw(x, F_FIFO), 0);
  cov_end(cov, cpu, Slot.Process);
  count(cpu, OpCounter.Episodes);
  releaseAll(picked);
}

/**
 * G12 on purpose: an idle tasklet scheduled and then re-initialised (tasklet_setup resets SCHED)
 * with interrupts off, so it sits at the tail of this CPU's queue without SCHED; a probe tasklet
 * queued behind it tells when the pass has been through it. Its callback must be skipped, and
 * the machine must have printed exactly one "tasklet SCHED state not set" warning (WARN_ONCE)
 * by the time any such probe ran.
 */
function* noSchedOp(cpu: number): TaskBody {
  if (Atomics.compareExchange(sh, S_G12_OPEN, 0, cpu + 1) !== 0) return;
  const picked = pickSameQueue(cpu, 2);
  if (picked.length < 2 || !acquireIdle(picked, cpu)) {
    Atomics.store(sh, S_G12_OPEN, 0);
    return;
  }
  cov_begin(cov, nr_cpu_ids(), cpu, Slot.Process, kindIndex('no_sched'));
  const [ti, probe] = picked;
  const t = tl(ti);
  const runsBefore = Atomics.load(sh, tw(ti, F_RUNS));
  const probeBefore = Atomics.load(sh, tw(probe, F_RUNS));
  Atomics.store(sh, tw(ti, F_NO_SCHED), 1);
  const flags = local_irq_save();
  if (isHi(ti)) tasklet_hi_schedule(t);
  else tasklet_schedule(t);
  tasklet_setup(t, stress_callback);
  record_event(sh, ti, EventKind.Init, cpu);
  schedule_raw(probe, cpu);
  local_irq_restore(flags);
  // Until the probe ran, the tasklet may still sit on the queue without SCHED: nobody else may
  // touch it (a schedule would queue it twice). A probe that never runs is a lost run the drain
  // reports.
  while (Atomics.load(sh, tw(probe, F_RUNS)) === probeBefore && Atomics.load(sh, S_PHASE) !== Phase.Stop)
    yield;
  for (let k = 0; k < 4; k++) yield;
  Atomics.store(sh, tw(ti, F_NO_SCHED), 0);
  if (Atomics.load(sh, tw(probe, F_RUNS)) !== probeBefore) {
    const done = Atomics.add(sh, S_G12_DONE, 1) + 1;
    const warned = Atomics.load(sh, S_G12_WARNED);
    if (warned !== 1) {
      fail(
        violation(
          'queued-without-sched',
          ti,
          [cpu],
          `${warned} "tasklet SCHED state not set" warnings after ${done} tasklet(s) were found queued without SCHED (expected exactly one: WARN_ONCE)`,
        ),
      );
    }
    if (Atomics.load(sh, tw(ti, F_RUNS)) !== runsBefore && Atomics.load(sh, S_ORACLES) !== 0) {
      fail(
        violation('queued-without-sched', ti, [cpu], 'the callback of a tasklet queued without SCHED ran'),
      );
    }
  }
  cov_end(cov, cpu, Slot.Process);
  count(cpu, OpCounter.Episodes);
  releaseAll(picked);
  Atomics.store(sh, S_G12_OPEN, 0);
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
  covered('pair', Slot.Process, () => {
    const flags = local_irq_save();
    schedule_raw(normal, cpu);
    schedule_raw(normal + 1, cpu);
    local_irq_restore(flags);
  });
}

/** Disable a shared tasklet, schedule it from every CPU, enable: exactly one run. */
function* coalesceOp(cpu: number): TaskBody {
  const shared = Atomics.load(sh, S_NR_TASKLETS) - firstShared();
  const i = firstShared() + rng.below(shared);
  if (!tryControl(i, cpu)) return;
  const t = tl(i);
  takeExclusive(i);
  cov_begin(cov, nr_cpu_ids(), cpu, Slot.Process, kindIndex('coalesce'));
  counted_disable(sh, i, () => tasklet_disable(t));
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
  counted_enable(sh, i, () => tasklet_enable(t));
  // Its run, and any second run a broken schedule could have queued, happen within a few passes.
  for (
    let waits = 0;
    (Atomics.load(sh, tw(i, F_RUNS)) === runsBefore || t.state !== 0) && waits < 400;
    waits++
  )
    yield;
  for (let waits = 0; waits < 4; waits++) yield;
  if (t.state === 0) fail(on_episode_end(sh, i, runsBefore, schedules));
  cov_end(cov, cpu, Slot.Process);
  count(cpu, OpCounter.Episodes);
  Atomics.store(sh, tw(i, F_EXCLUSIVE), 0);
  releaseControl(i);
}

function* stress_task(arg: unknown): TaskBody {
  const mix = (arg as StressTaskArg | null)?.mix ?? DEFAULT_MIX;
  const cpu = smp_processor_id();
  rng = new Prng((Atomics.load(sh, S_SEED) ^ Math.imul(cpu + 1, 0x9e3779b1)) >>> 0);
  for (let ops = 1; ; ops++) {
    serveKillRequest(cpu);
    const phase = Atomics.load(sh, S_PHASE);
    if (phase === Phase.Stop) return;
    if (phase === Phase.Drain) {
      Atomics.store(sh, S_DRAIN_ACK + cpu, Atomics.load(sh, S_EPOCH));
      yield;
      continue;
    }
    const op = pickOp(mix, rng.next());
    switch (op) {
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
      case 'racekill':
        racingKillOp(cpu);
        break;
      case 'killpair':
        yield* killPairOp(cpu);
        break;
      case 'multidis':
        multiDisableOp(cpu);
        break;
      case 'trylock':
        trylockOp(cpu);
        break;
      case 'spin':
        yield* spinOp(cpu);
        break;
      case 'fifo':
        yield* fifoOp(cpu);
        break;
      case 'nosched':
        yield* noSchedOp(cpu);
        break;
      default:
        yield* bh_op(op, cpu); // kernel timers and BH work
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

/**
 * Every kernel report a CPU prints is counted here, on that CPU, before it leaves (the
 * controller fails the run on it); a "tasklet SCHED state not set" warning while a CPU has a
 * tasklet queued without SCHED on purpose is the one the workload provoked (G12).
 */
function install_report_listener(): void {
  attach_tracepoint('printk', (level, text) => {
    if (!isKernelReport(level, text)) return;
    Atomics.add(sh, S_REPORTS, 1);
    if (text.includes(SCHED_NOT_SET) && Atomics.load(sh, S_G12_OPEN) !== 0) Atomics.add(sh, S_G12_WARNED, 1);
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
  callbacks: [stress_callback, stress_func],
  irqs: {
    [STRESS_IRQ]: { name: 'stress-dev', handler: stress_irq },
    [EPISODE_IRQ]: { name: 'stress-episode', handler: episode_irq },
    [RACE_IRQ]: { name: 'stress-race', handler: race_irq },
    [DISABLE_IRQ]: { name: 'stress-disable', handler: disable_irq },
    [SPIN_IRQ]: { name: 'stress-spin', handler: spin_irq },
  },
  calls: { stress_setup },
  cpu_init() {
    attach_stress_words(sh, cov);
    install_trace_oracle();
    install_vector_probe();
    install_report_listener();
  },
  tasks: { stress: stress_task },
});
