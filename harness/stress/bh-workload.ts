/**
 * Kernel timers and BH workqueues in the stress workload: a module of its own (its callbacks,
 * its interrupt, its setup call) whose ops the stress task runs from its op mix ('timer',
 * 'tsync', 'work', 'wsync'), next to the tasklet ops. The timer half is bh-timers.ts, the work
 * half bh-works.ts; the drain-time checks bh-drain.ts.
 */
import {
  defineModule,
  FIRST_DEVICE_IRQ,
  INIT_WORK,
  nr_cpu_ids,
  raise_irq,
  smp_processor_id,
  type TaskBody,
  tasklet_alloc,
  tasklet_setup,
  timer_alloc,
  timer_setup,
  work_alloc,
} from 'tasklet-rt';
import { machineMs } from '../../shm/clock.ts';
import { attach_stress_words, bh, rng, running, seed_rng } from './bh-common.ts';
import {
  B_FIRST_PROBE,
  B_FIRST_TIMER,
  B_FIRST_WORK,
  B_NR_TIMERS,
  B_NR_WORKS,
  MAX_BH_TIMERS,
  MAX_BH_WORKS,
} from './bh-shadow.ts';
import { bh_timer_fn, other_online, racing_timer_op, timer_sync_op } from './bh-timers.ts';
import { bh_probe_fn, bh_work_fn, racing_work_op, work_sync_op } from './bh-works.ts';
import type { Op } from './mix.ts';

/** Racing timer and work ops in hard-irq context, raised by another CPU's task. */
export const BH_IRQ = FIRST_DEVICE_IRQ + 4;

export { attach_stress_words };

const nTimers = (): number => Atomics.load(bh, B_NR_TIMERS);
const nWorks = (): number => Atomics.load(bh, B_NR_WORKS);

function bh_irq(): void {
  if (!running()) return;
  racing_timer_op(rng.below(nTimers()));
  racing_work_op(rng.below(nWorks()));
}

/** Some racing ops here, and maybe the same on another CPU in hard-irq context at once. */
function racing_burst(cpu: number, ops: (i: number) => void, n: number): void {
  if (rng.chance(15)) {
    const other = other_online(cpu);
    if (other >= 0) raise_irq(other, BH_IRQ);
  }
  for (let k = 1 + rng.below(2); k > 0; k--) ops(rng.below(n));
}

/**
 * The exclusive ops wait for what they provoke (a fire a few jiffies ahead, a run), and the task
 * makes no tasklet work meanwhile: each CPU starts one at most this often (machine time).
 */
const TSYNC_GAP_MS = 200;
const WSYNC_GAP_MS = 100;
let nextTsync = 0;
let nextWsync = 0;

/** One op of the stress mix that belongs here. */
export function* bh_op(op: Op, cpu: number): TaskBody<void> {
  seed_rng(cpu);
  if (nTimers() === 0) return;
  if (op === 'timer') racing_burst(cpu, racing_timer_op, nTimers());
  else if (op === 'work') racing_burst(cpu, racing_work_op, nWorks());
  else if (op === 'tsync' && machineMs() >= nextTsync) {
    nextTsync = machineMs() + TSYNC_GAP_MS;
    yield* timer_sync_op(cpu);
  } else if (op === 'wsync' && machineMs() >= nextWsync) {
    nextWsync = machineMs() + WSYNC_GAP_MS;
    yield* work_sync_op(cpu);
  }
}

/** Runs on CPU0 after stress_setup: the timers, the work items and the probe tasklets, contiguous. */
function stress_bh_setup(): number {
  const cpus = nr_cpu_ids();
  const timers = Math.min(MAX_BH_TIMERS, 4 + 3 * cpus);
  const works = Math.min(MAX_BH_WORKS, 6 + 4 * cpus);
  const contiguous = (id: number, first: number, k: number, what: string): void => {
    if (id !== first + k)
      throw new Error(`stress ${what} must be allocated contiguously (boot a fresh machine)`);
  };
  let first = -1;
  for (let i = 0; i < timers; i++) {
    const t = timer_alloc(`stress-timer${i}`, i);
    if (first < 0) first = t.id;
    contiguous(t.id, first, i, 'timers');
    timer_setup(t, bh_timer_fn);
  }
  Atomics.store(bh, B_FIRST_TIMER, first);
  first = -1;
  for (let i = 0; i < works; i++) {
    const w = work_alloc(`stress-work${i}`, i);
    if (first < 0) first = w.id;
    contiguous(w.id, first, i, 'work items');
    INIT_WORK(w, bh_work_fn);
  }
  Atomics.store(bh, B_FIRST_WORK, first);
  first = -1;
  for (let slot = 0; slot < cpus * 2; slot++) {
    const t = tasklet_alloc(`stress-probe${slot >> 1}${slot & 1 ? 'hi' : ''}`);
    if (first < 0) first = t.id;
    contiguous(t.id, first, slot, 'probe tasklets');
    tasklet_setup(t, bh_probe_fn);
  }
  Atomics.store(bh, B_FIRST_PROBE, first);
  Atomics.store(bh, B_NR_WORKS, works);
  Atomics.store(bh, B_NR_TIMERS, timers);
  return smp_processor_id();
}

export default defineModule({
  name: 'stress-bh',
  callbacks: [bh_timer_fn, bh_work_fn, bh_probe_fn],
  irqs: { [BH_IRQ]: { name: 'stress-bh', handler: bh_irq } },
  calls: { stress_bh_setup },
});
