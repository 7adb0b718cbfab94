/**
 * Test driver for BH workqueues: 8 static work items (DECLARE_WORK) whose function records what
 * it saw in its own shared words (runs, overlap, CPU, order, context), two companion tasklets
 * (normal and high) for the "work before tasklets" order, and calls (hard-irq context) and tasks
 * (process context) that tests use to queue, disable, cancel and flush from chosen CPUs.
 */
import {
  cancel_work,
  cancel_work_sync,
  DECLARE_TASKLET,
  DECLARE_WORK,
  defineModule,
  disable_work,
  disable_work_sync,
  enable_work,
  flush_work,
  from_work,
  in_hardirq,
  in_serving_softirq,
  queue_work,
  queue_work_on,
  shared_words,
  smp_processor_id,
  system_bh_highpri_wq,
  system_bh_wq,
  type TaskBody,
  tasklet_hi_schedule,
  tasklet_schedule,
  udelay,
  type WorkStruct,
  work_pending,
} from 'tasklet-rt';
import {
  F_BAD_CONTEXT,
  F_CONTAINER,
  F_CPU,
  F_HI,
  F_INSIDE,
  F_ORDER,
  F_OVERLAPS,
  F_RELEASED,
  F_REQUEUE,
  F_RUNS,
  F_SPIN_US,
  FIELDS,
  SPIN_HOLD,
  W_SEQ,
  W_TASKLET_HI_ORDER,
  W_TASKLET_ORDER,
  WORDS,
  WORKS,
} from './works-layout.ts';

const words = shared_words(WORDS, 'works');
const f = (id: number, field: number): number => id * FIELDS + field;
const seq = (): number => Atomics.add(words, W_SEQ, 1) + 1;

/**
 * Runs on until the test lets go of all runs (F_SPIN_US back to 0) or of this one (F_RELEASED
 * past it): the test then knows the run was in progress when it acted.
 */
function hold(id: number): void {
  const deadline = performance.now() + 10_000;
  const held = (): boolean =>
    Atomics.load(words, f(id, F_SPIN_US)) === SPIN_HOLD &&
    Atomics.load(words, f(id, F_RELEASED)) <= Atomics.load(words, f(id, F_RUNS));
  while (held() && performance.now() < deadline) udelay(20);
}

function work_fn(w: WorkStruct): void {
  const id = from_work(w);
  if (Atomics.add(words, f(id, F_INSIDE), 1) !== 0) Atomics.add(words, f(id, F_OVERLAPS), 1);
  Atomics.store(words, f(id, F_CONTAINER), id);
  if (!in_serving_softirq() || in_hardirq()) Atomics.add(words, f(id, F_BAD_CONTEXT), 1);
  Atomics.store(words, f(id, F_CPU), smp_processor_id());
  Atomics.store(words, f(id, F_ORDER), seq());
  const spin = Atomics.load(words, f(id, F_SPIN_US));
  if (spin > 0) udelay(spin);
  else if (spin === SPIN_HOLD) hold(id);
  Atomics.add(words, f(id, F_RUNS), 1);
  Atomics.sub(words, f(id, F_INSIDE), 1);
  if (Atomics.load(words, f(id, F_REQUEUE)) > 0) {
    Atomics.sub(words, f(id, F_REQUEUE), 1);
    queue_work(Atomics.load(words, f(id, F_HI)) ? system_bh_highpri_wq : system_bh_wq, w);
  }
}

const works: WorkStruct[] = [];
for (let id = 0; id < WORKS; id++) {
  const w = DECLARE_WORK(`test_work${id}`, work_fn);
  w.container = id;
  works.push(w);
}

const companion = DECLARE_TASKLET('work_companion', () => {
  Atomics.store(words, W_TASKLET_ORDER, seq());
});
const companionHi = DECLARE_TASKLET('work_companion_hi', () => {
  Atomics.store(words, W_TASKLET_HI_ORDER, seq());
});

interface Op {
  id: number;
  hi?: boolean;
  cpu?: number;
}

function queue({ id, hi = false, cpu }: Op): boolean {
  Atomics.store(words, f(id, F_HI), hi ? 1 : 0);
  const wq = hi ? system_bh_highpri_wq : system_bh_wq;
  return cpu === undefined ? queue_work(wq, works[id]) : queue_work_on(cpu, wq, works[id]);
}

function* task(fn: () => unknown): TaskBody {
  return fn();
}

function peek(id: number, ret: unknown): unknown {
  return {
    ret,
    inside: Atomics.load(words, f(id, F_INSIDE)),
    pending: work_pending(works[id]),
    runs: Atomics.load(words, f(id, F_RUNS)),
  };
}

export default defineModule({
  name: 'works',
  callbacks: [work_fn],
  calls: {
    queue: (arg) => queue(arg as Op),
    /** The companion tasklet first, then the work, on the same vector, in one interrupt. */
    queueAfterTasklet: (arg) => {
      const op = arg as Op;
      if (op.hi) tasklet_hi_schedule(companionHi);
      else tasklet_schedule(companion);
      return queue(op);
    },
    /** Several works in one go, in this order. */
    queueMany: (arg) => (arg as Op[]).map(queue),
    /** Several operations in one interrupt (softirqs run only once it returns). */
    ops: (arg) =>
      (arg as (Op & { op: 'queue' | 'cancel' | 'disable' | 'enable' | 'pending' })[]).map((o) => {
        const w = works[o.id];
        switch (o.op) {
          case 'queue':
            return queue(o);
          case 'cancel':
            return cancel_work(w);
          case 'disable':
            return disable_work(w);
          case 'enable':
            return enable_work(w);
          default:
            return work_pending(w);
        }
      }),
    pending: (arg) => work_pending(works[(arg as Op).id]),
    cancel: (arg) => cancel_work(works[(arg as Op).id]),
    disable: (arg) => disable_work(works[(arg as Op).id]),
    enable: (arg) => enable_work(works[(arg as Op).id]),
  },
  tasks: {
    cancelSyncPeek: (arg) => task(() => peek((arg as Op).id, cancel_work_sync(works[(arg as Op).id]))),
    disableSyncPeek: (arg) => task(() => peek((arg as Op).id, disable_work_sync(works[(arg as Op).id]))),
    flushPeek: (arg) => task(() => peek((arg as Op).id, flush_work(works[(arg as Op).id]))),
  },
});
