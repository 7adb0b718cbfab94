/**
 * Test driver: 16 static tasklets whose callback records what it saw in shared memory (runs,
 * CPU, context, overlap), plus calls (hard-irq context) and tasks (process context) that
 * tests use to poke the machine from chosen CPUs.
 *
 * The overlap check uses its own word per tasklet, never the RUN bit it is meant to judge.
 */
import {
  current,
  DECLARE_TASKLET,
  DECLARE_TASKLET_DISABLED,
  defineModule,
  in_hardirq,
  in_interrupt,
  in_serving_softirq,
  in_softirq,
  in_task,
  local_bh_disable,
  local_bh_enable,
  local_irq_restore,
  local_irq_save,
  shared_words,
  smp_processor_id,
  type TaskBody,
  type TaskletStruct,
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
  tasklet_unlock_spin_wait,
  tasklet_unlock_wait,
  udelay,
} from 'tasklet-rt';

export const PROBES = 16;

/** Per-tasklet words (index = tasklet id). */
export const F_RUNS = 0;
export const F_LAST_CPU = 1;
export const F_INSIDE = 2; // CPU + 1 while the callback runs
export const F_OVERLAPS = 3; // runs that found another CPU inside
export const F_CONTEXT = 4; // bits of the last run: 1 serving, 2 in_interrupt, 4 hardirq, 8 softirq, 16 in_task
export const F_DELAY_US = 5; // busy time per run
export const F_RESCHEDULE = 6; // self-reschedules left
export const F_RESCHEDULE_HI = 7;
export const F_SEQ = 8; // global order number of the last run
export const F_DATA = 9; // data seen by the old-style func
export const F_CPU_MASK = 10; // CPUs it ran on
const FIELDS = 12;

const words = shared_words(PROBES * FIELDS + 4);
const SEQ = PROBES * FIELDS;
/** Run order log: the last 64 tasklet ids in run order (for ordering tests). */
const LOG = shared_words(65);

export const field = (id: number, f: number): number => id * FIELDS + f;

function record(t: TaskletStruct): void {
  const id = t.id;
  const me = smp_processor_id();
  if (Atomics.compareExchange(words, field(id, F_INSIDE), 0, me + 1) !== 0)
    Atomics.add(words, field(id, F_OVERLAPS), 1);
  const delay = Atomics.load(words, field(id, F_DELAY_US));
  if (delay > 0) udelay(delay);
  let ctx = 0;
  if (in_serving_softirq()) ctx |= 1;
  if (in_interrupt()) ctx |= 2;
  if (in_hardirq()) ctx |= 4;
  if (in_softirq()) ctx |= 8;
  if (in_task()) ctx |= 16;
  Atomics.store(words, field(id, F_CONTEXT), ctx);
  Atomics.store(words, field(id, F_LAST_CPU), me);
  Atomics.or(words, field(id, F_CPU_MASK), 1 << me);
  const seq = Atomics.add(words, SEQ, 1);
  Atomics.store(words, field(id, F_SEQ), seq + 1);
  const slot = Atomics.add(LOG, 64, 1);
  if (slot < 64) Atomics.store(LOG, slot, id);
  Atomics.add(words, field(id, F_RUNS), 1);
  Atomics.compareExchange(words, field(id, F_INSIDE), me + 1, 0);
  if (Atomics.load(words, field(id, F_RESCHEDULE)) > 0) {
    Atomics.sub(words, field(id, F_RESCHEDULE), 1);
    tasklet_schedule(t);
  } else if (Atomics.load(words, field(id, F_RESCHEDULE_HI)) > 0) {
    Atomics.sub(words, field(id, F_RESCHEDULE_HI), 1);
    tasklet_hi_schedule(t);
  }
}

function probe_callback(t: TaskletStruct): void {
  record(t);
}

/** Old-style func: data carries the tasklet id. */
function probe_func(data: number): void {
  Atomics.store(words, field(data, F_DATA), data);
  record(tasklet_from_id(data));
}

export const probes: TaskletStruct[] = [];
for (let i = 0; i < PROBES - 1; i++) probes.push(DECLARE_TASKLET(`probe${i}`, probe_callback));
/** The last probe starts disabled (DECLARE_TASKLET_DISABLED). */
probes.push(DECLARE_TASKLET_DISABLED(`probe${PROBES - 1}`, probe_callback));

type Op = { id: number; hi?: boolean; n?: number };
const t = (op: Op): TaskletStruct => tasklet_from_id(op.id);

function snapshot(id: number): Record<string, number> {
  const tl = tasklet_from_id(id);
  return {
    runs: Atomics.load(words, field(id, F_RUNS)),
    lastCpu: Atomics.load(words, field(id, F_LAST_CPU)),
    overlaps: Atomics.load(words, field(id, F_OVERLAPS)),
    context: Atomics.load(words, field(id, F_CONTEXT)),
    seq: Atomics.load(words, field(id, F_SEQ)),
    data: Atomics.load(words, field(id, F_DATA)),
    cpuMask: Atomics.load(words, field(id, F_CPU_MASK)),
    state: tl.state,
    count: tl.count,
  };
}

function* sleepingOp(fn: () => void): TaskBody {
  fn();
  return true;
}

export default defineModule({
  name: 'probe',
  callbacks: [probe_func, probe_callback],
  calls: {
    /** tasklet_schedule n times in a row from hard-irq context on this CPU. */
    schedule: (arg) => {
      const op = arg as Op;
      for (let i = 0; i < (op.n ?? 1); i++) (op.hi ? tasklet_hi_schedule : tasklet_schedule)(t(op));
      return smp_processor_id();
    },
    /** Schedules several tasklets in one irq, in the given order (normal or hi per entry). */
    scheduleMany: (arg) => {
      for (const op of arg as Op[]) (op.hi ? tasklet_hi_schedule : tasklet_schedule)(t(op));
      return null;
    },
    disable_nosync: (arg) => tasklet_disable_nosync(t(arg as Op)),
    disable_in_atomic: (arg) => tasklet_disable_in_atomic(t(arg as Op)),
    enable: (arg) => tasklet_enable(t(arg as Op)),
    trylock: (arg) => tasklet_trylock(t(arg as Op)),
    unlock: (arg) => tasklet_unlock(t(arg as Op)),
    unlock_spin_wait: (arg) => tasklet_unlock_spin_wait(t(arg as Op)),
    kill: (arg) => tasklet_kill(t(arg as Op)),
    init_func: (arg) => tasklet_init(t(arg as Op), probe_func, (arg as Op).id),
    setup: (arg) => tasklet_setup(t(arg as Op), probe_callback),
    set: (arg) => {
      const { id, f, value } = arg as { id: number; f: number; value: number };
      Atomics.store(words, field(id, f), value);
      return null;
    },
    get: (arg) => snapshot((arg as Op).id),
    log: () => Array.from(LOG.subarray(0, Math.min(64, Atomics.load(LOG, 64)))),
    resetLog: () => Atomics.store(LOG, 64, 0),
    context: () => ({
      hardirq: in_hardirq(),
      interrupt: in_interrupt(),
      task: in_task(),
      pid: current().pid,
    }),
    /** Schedules inside a local_irq_save section: runs after local_irq_restore. */
    scheduleIrqsOff: (arg) => {
      const flags = local_irq_save();
      tasklet_schedule(t(arg as Op));
      local_irq_restore(flags);
      return null;
    },
  },
  tasks: {
    disable: (arg) => sleepingOp(() => tasklet_disable(t(arg as Op))),
    kill: (arg) => sleepingOp(() => tasklet_kill(t(arg as Op))),
    unlock_wait: (arg) => sleepingOp(() => tasklet_unlock_wait(t(arg as Op))),
    /** Process-context schedule (wakes ksoftirqd) and report where the run happened. */
    schedule: (arg) => sleepingOp(() => tasklet_schedule(t(arg as Op))),
    /** Schedule under local_bh_disable: nothing runs until the outermost local_bh_enable. */
    *bhSection(arg): TaskBody {
      const op = arg as Op;
      local_bh_disable();
      tasklet_schedule(t(op));
      udelay(2000);
      const runsInside = Atomics.load(words, field(op.id, F_RUNS));
      local_bh_enable();
      const runsAfter = Atomics.load(words, field(op.id, F_RUNS));
      return { runsInside, runsAfter };
    },
  },
});
