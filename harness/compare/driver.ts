/**
 * The driver both sides of `tasklet-rt compare` run: a device interrupt (on every CPU) that
 * defers work, a bottom half that does it, and a process-context path that disables and enables
 * it around configuration changes and tears it down, once with a tasklet and once converted to
 * a BH work item as a driver conversion does it:
 *
 *   tasklet_schedule(t)  → queue_work(system_bh_wq, w)
 *   tasklet_disable(t)   → disable_work_sync(w)
 *   tasklet_enable(t)    → enable_work(w)
 *   tasklet_kill(t)      → cancel_work_sync(w)
 *
 * Everything observed is recorded in the module's own words (words.ts) at the same places in
 * both modes, so the two runs compare line by line.
 */
import {
  cancel_work_sync,
  cpu_online,
  DECLARE_TASKLET,
  DECLARE_WORK,
  defineModule,
  disable_work_sync,
  enable_work,
  FIRST_DEVICE_IRQ,
  jiffies,
  local_irq_restore,
  local_irq_save,
  nr_cpu_ids,
  queue_work,
  raise_irq,
  shared_words,
  smp_processor_id,
  system_bh_wq,
  type TaskBody,
  tasklet_disable,
  tasklet_enable,
  tasklet_kill,
  tasklet_schedule,
  udelay,
} from 'tasklet-rt';
import { machineMs } from '../../shm/clock.ts';
import { Prng } from '../prng.ts';
import { C, COMPARE_WORDS, ComparePhase, LATENCY_BASE, MAX_LATENCY_SAMPLES } from './words.ts';

export const COMPARE_IRQ = FIRST_DEVICE_IRQ;
/** How long the "disabled" experiment waits for a run after the enable (200 ms at HZ=250). */
const REMEMBERED_WAIT_JIFFIES = 50;
const words = shared_words(COMPARE_WORDS, 'compare');
const get = (w: C): number => Atomics.load(words, w);
const add = (w: C): number => Atomics.add(words, w, 1);
const nowUs = (): number => Math.round(machineMs() * 1000);
let rng = new Prng(1);

const isWork = (): boolean => get(C.Mode) === 1;

function bottom_half(): void {
  const cpu = smp_processor_id();
  const start = nowUs();
  Atomics.store(words, C.Inside, cpu + 1);
  add(C.Runs);
  const first = Atomics.exchange(words, C.FirstPending, 0);
  if (first !== 0) {
    const n = add(C.LatencyCount);
    if (n < MAX_LATENCY_SAMPLES) Atomics.store(words, LATENCY_BASE + n, Math.max(0, start - (first - 1)));
  }
  const reentry = Atomics.exchange(words, C.Reentry, 0);
  if (reentry !== 0) add(cpu === (reentry & 0xff) - 1 ? C.ReentryOnScheduler : C.ReentryOnRunner);
  add(get(C.LastSchedCpu) === cpu + 1 ? C.RunsOnSchedCpu : C.RunsElsewhere);
  // The work itself: short mostly, long at times (so schedules meet it running elsewhere).
  udelay(rng.chance(10) ? 300 : 20 + rng.below(30));
  Atomics.store(words, C.Inside, 0);
}

function compare_tasklet_fn(): void {
  bottom_half();
}
function compare_work_fn(): void {
  bottom_half();
}
const tasklet = DECLARE_TASKLET('compare_tasklet', compare_tasklet_fn);
const work = DECLARE_WORK('compare_work', compare_work_fn);

/** The driver's "schedule the bottom half" (tasklet_schedule or queue_work), recorded. */
function defer(): void {
  const cpu = smp_processor_id();
  const stamp = nowUs() + 1;
  // Before the call, so that the run it causes cannot start first; a refused queueing takes it back.
  const first = Atomics.compareExchange(words, C.FirstPending, 0, stamp) === 0;
  const inside = get(C.Inside);
  if (inside !== 0 && inside !== cpu + 1) Atomics.store(words, C.Reentry, (inside << 8) | (cpu + 1));
  Atomics.store(words, C.LastSchedCpu, cpu + 1);
  add(C.Schedules);
  const disabled = get(C.Disabled) !== 0;
  if (disabled) add(C.SchedWhileDisabled);
  if (isWork()) {
    if (queue_work(system_bh_wq, work)) add(C.Accepted);
    else {
      if (disabled) add(C.RefusedWhileDisabled);
      if (first) Atomics.compareExchange(words, C.FirstPending, stamp, 0);
    }
  } else {
    tasklet_schedule(tasklet);
  }
}

function disable(): void {
  if (isWork()) disable_work_sync(work);
  else tasklet_disable(tasklet);
  Atomics.store(words, C.Disabled, 1);
}

function enable(): void {
  Atomics.store(words, C.Disabled, 0);
  if (isWork()) enable_work(work);
  else tasklet_enable(tasklet);
}

/** tasklet_kill or cancel_work_sync; whether it took a pending run away (work only says). */
function teardown(): boolean {
  if (isWork()) return cancel_work_sync(work);
  tasklet_kill(tasklet);
  return false;
}

function device_irq(): void {
  if (Atomics.exchange(words, C.Probe, 0) !== 0) {
    defer();
    add(C.ProbesDone);
  } else if (get(C.Phase) === ComparePhase.Steady) defer();
}

/** Per CPU: the device raising its interrupt, on this CPU or another, at random intervals. */
function* irq_source(): TaskBody<void> {
  const cpu = smp_processor_id();
  const prng = new Prng((get(C.Seed) ^ Math.imul(cpu + 7, 0x9e3779b1)) >>> 0);
  while (get(C.Phase) !== ComparePhase.Stop) {
    if (get(C.Phase) === ComparePhase.Steady) {
      const target = prng.below(nr_cpu_ids());
      if (cpu_online(target)) raise_irq(target, COMPARE_IRQ);
    }
    udelay(50 + prng.below(400));
    yield;
  }
}

function* wait_jiffies(n: number): TaskBody<void> {
  const until = jiffies() + n;
  while (((jiffies() - until) | 0) < 0) yield;
}

function* quiesce(): TaskBody<void> {
  Atomics.store(words, C.Phase, ComparePhase.Quiet);
  yield* wait_jiffies(2);
  teardown();
  while (get(C.Inside) !== 0) yield;
  Atomics.store(words, C.FirstPending, 0);
}

/**
 * The process-context path on CPU0: steady load with disable/enable cycles around "config
 * changes", then the two experiments, each `trials` times on a quiet device.
 */
function* process_path(): TaskBody<void> {
  rng = new Prng(get(C.Seed) ^ 0xc0ffee);
  const trials = get(C.Trials);
  const steadyMs = get(C.SteadyMs);
  Atomics.store(words, C.Phase, ComparePhase.Steady);
  const end = machineMs() + steadyMs;
  while (machineMs() < end) {
    const pause = machineMs() + 2 + rng.below(4);
    while (machineMs() < pause) yield;
    disable();
    const reconfigure = machineMs() + 0.5 + rng.below(2);
    while (machineMs() < reconfigure) yield;
    enable();
  }
  // Disabled: one schedule from another CPU's interrupt while disabled; does it run after the enable?
  const other = nr_cpu_ids() > 1 ? 1 : 0;
  for (let k = 0; k < trials; k++) {
    yield* quiesce();
    disable();
    const before = get(C.ProbesDone);
    Atomics.store(words, C.Probe, 1);
    raise_irq(other, COMPARE_IRQ);
    while (get(C.ProbesDone) === before) yield;
    const runs = get(C.Runs);
    enable();
    // A remembered schedule runs at the next softirq pass; a dropped one never: bounded wait.
    const until = jiffies() + REMEMBERED_WAIT_JIFFIES;
    while (get(C.Runs) === runs && ((jiffies() - until) | 0) < 0) yield;
    add(C.DisabledTrials);
    if (get(C.Runs) > runs) add(C.DisabledRemembered);
  }
  // Teardown: scheduled, then torn down at once (the remove path): does the pending run happen?
  for (let k = 0; k < trials; k++) {
    yield* quiesce();
    const runs = get(C.Runs);
    // Interrupts off from the schedule to the cancel, so no softirq pass comes in between (as
    // under a driver's irqsave lock); tasklet_kill cannot be called so (it waits for the pass
    // that runs the tasklet), so it follows right after the section.
    const flags = local_irq_save();
    defer();
    if (isWork() && teardown()) add(C.TeardownCancelled);
    local_irq_restore(flags);
    if (!isWork()) teardown();
    Atomics.add(words, C.TeardownRuns, get(C.Runs) - runs);
    add(C.TeardownTrials);
  }
  Atomics.store(words, C.Phase, ComparePhase.Stop);
  Atomics.store(words, C.Done, 1);
}

interface CompareSetup {
  mode: 'tasklet' | 'work';
  seed: number;
  trials: number;
  steadyMs: number;
}

export default defineModule({
  name: 'compare-driver',
  callbacks: [compare_tasklet_fn, compare_work_fn],
  irqs: { [COMPARE_IRQ]: { name: 'compare-dev', handler: device_irq } },
  calls: {
    compare_setup: (arg) => {
      const setup = arg as CompareSetup;
      words.fill(0);
      Atomics.store(words, C.Mode, setup.mode === 'work' ? 1 : 0);
      Atomics.store(words, C.Seed, setup.seed);
      Atomics.store(words, C.Trials, setup.trials);
      Atomics.store(words, C.SteadyMs, setup.steadyMs);
      Atomics.store(words, C.Phase, ComparePhase.Quiet);
      return true;
    },
  },
  cpu_init(cpu) {
    rng = new Prng(0x51 + cpu);
  },
  tasks: { compare_irq_source: irq_source, compare_path: process_path },
});
