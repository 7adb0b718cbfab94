/**
 * The module harness, loaded on every CPU after the module under test: the shadow's
 * tracepoint sinks (shadow-hooks.ts), and the tasks that drive the module's declared stimulus
 * (one interrupt generator and one task starter per CPU), run its probe/remove and its
 * invariants. What the CPUs do is decided by the seed and machine time only, so a controlled
 * run is the same run every time.
 */
import {
  defineModule,
  kthread_run,
  nr_cpu_ids,
  raise_irq,
  shared_words,
  smp_processor_id,
  type TaskBody,
  udelay,
} from 'tasklet-rt';
import { find_task, loaded_modules, type ModuleDefinition } from '../../kernel/module.ts';
import { machineMs } from '../../shm/clock.ts';
import { install_vector_probe } from '../oracles/cpu-context.ts';
import { Prng } from '../prng.ts';
import { HARNESS_MODULE_NAME } from './harness-name.ts';
import {
  CONTROL_NAME,
  CONTROL_WORDS,
  EXTRA_NAME,
  M_ACK,
  M_ALIVE,
  M_DEVICE_LOCK,
  M_EPOCH,
  M_IRQS,
  M_LIFECYCLE,
  M_PHASE,
  M_READY,
  M_STARTS,
  MODULE_EXTRA_WORDS,
  MODULE_SHADOW_WORDS,
  Phase,
  SHADOW_NAME,
  type StimulusPlan,
} from './layout.ts';
import { install_shadow_hooks } from './shadow-hooks.ts';

const control = shared_words(CONTROL_WORDS, CONTROL_NAME);
const sh = shared_words(MODULE_SHADOW_WORDS, SHADOW_NAME);
const xs = shared_words(MODULE_EXTRA_WORDS, EXTRA_NAME);

/** The module under test: the first one loaded that is not this harness. */
function driver(): ModuleDefinition {
  const found = loaded_modules().find((m) => m.name !== HARNESS_MODULE_NAME);
  if (found === undefined) throw new Error('module harness: no module under test is loaded');
  return found;
}

const phase = (): Phase => Atomics.load(control, M_PHASE);

/** Until the module under test has run its init and probe (this module's init runs after them). */
function* until_ready(): TaskBody<void> {
  while (Atomics.load(control, M_READY) === 0) yield;
}

/** At a drain: says this CPU's interrupt generator (role 0) or task starter (1) has stopped. */
function ack(cpu: number, role: 0 | 1): void {
  Atomics.store(control, M_ACK + cpu * 2 + role, Atomics.load(control, M_EPOCH));
}

/**
 * Raises the declared interrupts from this CPU: its share (1/nr_cpus) of each line's rate, on
 * random CPUs, paced by machine time (a backlog after a pause is not made up in a burst).
 */
function* irq_generator(arg?: unknown): TaskBody<void> {
  const plan = arg as StimulusPlan;
  const cpu = smp_processor_id();
  const rng = new Prng((plan.seed ^ Math.imul(cpu + 1, 0x9e3779b1)) >>> 0);
  const n = nr_cpu_ids();
  const due = plan.lines.map(() => 0);
  yield* until_ready();
  let last = machineMs();
  for (;;) {
    const p = phase();
    if (p === Phase.Stop) return;
    const now = machineMs();
    if (p === Phase.Drain) ack(cpu, 0);
    else {
      const elapsed = Math.min(now - last, 10);
      for (const [k, line] of plan.lines.entries()) {
        due[k] += (elapsed * line.rate) / 1000 / n;
        while (due[k] >= 1) {
          due[k] -= 1;
          raise_irq(rng.below(n), line.irq);
          Atomics.add(control, M_IRQS + k, 1);
        }
      }
    }
    last = now;
    yield;
  }
}

/** Starts the module's tasks on this CPU, chosen by weight, up to plan.perCpu at once. */
function* task_starter(arg?: unknown): TaskBody<void> {
  const plan = arg as StimulusPlan;
  const cpu = smp_processor_id();
  const rng = new Prng((plan.seed ^ Math.imul(cpu + 1, 0x85ebca6b)) >>> 0);
  const total = plan.tasks.reduce((s, t) => s + t.weight, 0);
  const pick = (): number => {
    let x = rng.next() * total;
    for (const [k, t] of plan.tasks.entries()) {
      x -= t.weight;
      if (x < 0) return k;
    }
    return plan.tasks.length - 1;
  };
  yield* until_ready();
  for (;;) {
    const p = phase();
    if (p === Phase.Stop) return;
    const alive = Atomics.load(control, M_ALIVE + cpu);
    if (p === Phase.Drain) {
      if (alive === 0) ack(cpu, 1);
    } else if (plan.tasks.length > 0 && alive < plan.perCpu) {
      const k = pick();
      start_module_task(plan.tasks[k].name, cpu);
      Atomics.add(control, M_STARTS + k, 1);
    }
    yield;
  }
}

/** Runs one of the module's tasks as its own task (its comm is its name), counted while alive. */
function start_module_task(name: string, cpu: number): void {
  start_counted(find_task(name)!, name, cpu);
}

/** Starts `fn` as a task on this CPU; a drain waits until every such task has ended. */
function start_counted(
  fn: (arg?: unknown) => TaskBody,
  comm: string,
  cpu: number,
  arg: unknown = null,
): void {
  Atomics.add(control, M_ALIVE + cpu, 1);
  kthread_run(function* module_task(): TaskBody<unknown> {
    try {
      return yield* fn(arg);
    } finally {
      Atomics.sub(control, M_ALIVE + cpu, 1);
    }
  }, comm);
}

/** A fuzz step run as its own task; the controller counted it alive on `cpu` before it started. */
export interface FuzzStepArg {
  cpu: number;
  task?: string;
  cycles?: number;
  storm?: { irq: number; rate: number; us: number };
}

/**
 * One fuzz step: starts one of the module's tasks, some remove → probe cycles, or a storm, as
 * its own task, and returns. The controller adds that task to M_ALIVE before this one starts (a
 * drain that came before this ran would otherwise miss it, and the module's exit would race it);
 * it takes itself off as it ends.
 */
function* fuzz_step(arg?: unknown): TaskBody<void> {
  const step = arg as FuzzStepArg;
  const body = function* fuzz_task(): TaskBody<unknown> {
    try {
      if (step.task !== undefined) return yield* find_task(step.task)!(null);
      for (let k = 0; k < (step.cycles ?? 0); k++) yield* lifecycle('cycle');
      if (step.storm !== undefined) yield* storm(step.storm);
    } finally {
      Atomics.sub(control, M_ALIVE + step.cpu, 1);
    }
  };
  kthread_run(body, step.task ?? (step.storm !== undefined ? 'storm' : 'lifecycle'));
}

/**
 * The device raising `irq` at `rate` per second for `us` µs of machine time, on every CPU in
 * turn (the CPU that raises spins between raises, as a device's own clock would not).
 */
function* storm(arg: { irq: number; rate: number; us: number }): TaskBody<void> {
  const { irq, rate, us } = arg;
  const gapUs = 1e6 / rate;
  const end = machineMs() + us / 1000;
  for (let k = 0; machineMs() < end; k++) {
    raise_irq(k % nr_cpu_ids(), irq);
    udelay(gapUs);
    if (k % 16 === 15) yield;
  }
}

/**
 * remove → probe (or one of them), in process context. One at a time, as the driver core holds
 * the device lock across a driver's probe and remove: two cycles started on two CPUs queue.
 */
function* lifecycle(arg?: unknown): TaskBody<void> {
  const m = driver();
  const op = (arg as string | null) ?? 'cycle';
  while (Atomics.compareExchange(control, M_DEVICE_LOCK, 0, 1) !== 0) yield;
  try {
    if (op !== 'probe') m.remove?.();
    if (op !== 'remove') m.probe?.();
  } finally {
    Atomics.store(control, M_DEVICE_LOCK, 0);
  }
  if (op === 'cycle') Atomics.add(control, M_LIFECYCLE, 1);
}

/** The module's invariants, one by one; a throw is reported by name (WARN_ON/BUG_ON print). */
function* invariants(): TaskBody<{ name: string; message: string }[]> {
  const failed: { name: string; message: string }[] = [];
  for (const [name, check] of Object.entries(driver().invariants ?? {})) {
    try {
      check();
    } catch (error) {
      failed.push({ name, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return failed;
}

export default defineModule({
  name: HARNESS_MODULE_NAME,
  tasks: {
    module_irq_generator: irq_generator,
    module_task_starter: task_starter,
    module_lifecycle: lifecycle,
    module_fuzz_step: fuzz_step,
    module_invariants: invariants,
  },
  init() {
    Atomics.store(control, M_READY, 1);
  },
  cpu_init() {
    install_vector_probe();
    install_shadow_hooks({ control, sh, xs });
  },
});
