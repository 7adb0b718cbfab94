/**
 * Test driver for kernel timers: 8 static timers (DEFINE_TIMER) whose callback records what it
 * saw in its own shared words (runs, overlap, earliness, CPU, context), plus calls (hard-irq
 * context) and tasks (process context) that tests use to arm, delete and wait from chosen CPUs.
 * The overlap check uses its own word per timer, never the base's running_timer it judges.
 */
import {
  add_timer_on,
  DEFINE_TIMER,
  defineModule,
  del_timer,
  del_timer_sync,
  from_tasklet,
  from_timer,
  in_hardirq,
  in_serving_softirq,
  jiffies,
  mod_timer,
  mod_timer_pending,
  shared_words,
  smp_processor_id,
  type TaskBody,
  type TaskletStruct,
  type TimerList,
  tasklet_alloc,
  tasklet_schedule,
  tasklet_setup,
  time_before,
  timer_pending,
  timer_setup,
  udelay,
} from 'tasklet-rt';
import {
  F_BAD_CONTEXT,
  F_CONTAINER,
  F_CPU,
  F_EARLY,
  F_EXPIRES,
  F_INSIDE,
  F_ORDER,
  F_OVERLAPS,
  F_REARM,
  F_REARM_DELAY,
  F_RUNS,
  F_SPIN_US,
  FIELDS,
  TIMERS,
  W_FROM_TASKLET,
  W_SEQ,
  WORDS,
} from './timers-layout.ts';

const words = shared_words(WORDS, 'timers');
const f = (id: number, field: number): number => id * FIELDS + field;

function timer_fn(t: TimerList): void {
  const id = from_timer(t);
  if (Atomics.add(words, f(id, F_INSIDE), 1) !== 0) Atomics.add(words, f(id, F_OVERLAPS), 1);
  Atomics.store(words, f(id, F_CONTAINER), id);
  if (time_before(jiffies(), Atomics.load(words, f(id, F_EXPIRES)) >>> 0))
    Atomics.add(words, f(id, F_EARLY), 1);
  if (!in_serving_softirq() || in_hardirq()) Atomics.add(words, f(id, F_BAD_CONTEXT), 1);
  Atomics.store(words, f(id, F_CPU), smp_processor_id());
  Atomics.store(words, f(id, F_ORDER), Atomics.add(words, W_SEQ, 1) + 1);
  const spin = Atomics.load(words, f(id, F_SPIN_US));
  if (spin > 0) udelay(spin);
  Atomics.add(words, f(id, F_RUNS), 1);
  Atomics.sub(words, f(id, F_INSIDE), 1);
  if (Atomics.load(words, f(id, F_REARM)) > 0) {
    Atomics.sub(words, f(id, F_REARM), 1);
    arm(id, Atomics.load(words, f(id, F_REARM_DELAY)));
  }
}

/** A tasklet's callback reaches its module data from the tasklet (from_tasklet). */
function container_tasklet_fn(t: TaskletStruct): void {
  Atomics.store(words, W_FROM_TASKLET, from_tasklet(t));
}

function other_fn(t: TimerList): void {
  timer_fn(t);
}

const timers: TimerList[] = [];
for (let id = 0; id < TIMERS; id++) {
  const t = DEFINE_TIMER(`test_timer${id}`, timer_fn);
  t.container = id;
  timers.push(t);
}

function arm(id: number, delay: number): boolean {
  const expires = jiffies() + delay;
  Atomics.store(words, f(id, F_EXPIRES), (expires % 2 ** 32) | 0);
  return mod_timer(timers[id], expires);
}

interface Op {
  id: number;
  delay?: number;
  cpu?: number;
}

function* task(fn: () => unknown): TaskBody {
  return fn();
}

export default defineModule({
  name: 'timers',
  callbacks: [timer_fn, other_fn, container_tasklet_fn],
  calls: {
    arm: (arg) => arm((arg as Op).id, (arg as Op).delay ?? 1),
    arm_on: (arg) => {
      const { id, delay = 1, cpu = 0 } = arg as Op;
      const expires = jiffies() + delay;
      Atomics.store(words, f(id, F_EXPIRES), (expires % 2 ** 32) | 0);
      add_timer_on(timers[id], cpu, expires);
      return true;
    },
    arm_pending: (arg) => {
      const { id, delay = 1 } = arg as Op;
      return mod_timer_pending(timers[id], jiffies() + delay);
    },
    /** Arms several timers in one interrupt (no tick in between); mod_timer's results. */
    arm_many: (arg) => {
      const { ids, delays } = arg as { ids: number[]; delays: number[] };
      return ids.map((id, i) => arm(id, delays[i]));
    },
    /** A run-time tasklet embedded in struct number `container`, scheduled at once. */
    taskletContainer: (arg) => {
      const t = tasklet_alloc('container_tasklet', (arg as { container: number }).container);
      tasklet_setup(t, container_tasklet_fn);
      tasklet_schedule(t);
      return t.id;
    },
    del: (arg) => del_timer(timers[(arg as Op).id]),
    pending: (arg) => timer_pending(timers[(arg as Op).id]),
    info: (arg) => {
      const t = timers[(arg as Op).id];
      return { pending: timer_pending(t), cpu: t.cpu, expires: t.expires, jiffies: jiffies() };
    },
    /** timer_setup with the other callback: the timer becomes idle and keeps its container. */
    setup: (arg) => {
      timer_setup(timers[(arg as Op).id], other_fn, 0);
      return true;
    },
  },
  tasks: {
    /** del_timer_sync, then whether the callback was inside or the timer pending right after. */
    delSyncPeek: (arg) =>
      task(() => {
        const id = (arg as Op).id;
        const ret = del_timer_sync(timers[id]);
        return {
          ret,
          inside: Atomics.load(words, f(id, F_INSIDE)),
          pending: timer_pending(timers[id]),
          runs: Atomics.load(words, f(id, F_RUNS)),
        };
      }),
    arm: (arg) => task(() => arm((arg as Op).id, (arg as Op).delay ?? 1)),
  },
});
