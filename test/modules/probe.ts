/**
 * Test driver: 18 static tasklets whose callback records what it saw in shared memory (runs,
 * CPU, context, overlap, softirq pass, trace events), plus calls (hard-irq context) and tasks
 * (process context) that tests use to poke the machine from chosen CPUs.
 *
 * The overlap check uses its own word per tasklet, never the RUN bit it is meant to judge.
 * Layout of the shared words: ./probe-layout.ts (tests read them directly).
 */

import {
  cpu_relax,
  current,
  DECLARE_TASKLET,
  DECLARE_TASKLET_DISABLED,
  DECLARE_TASKLET_DISABLED_OLD,
  DECLARE_TASKLET_OLD,
  defineModule,
  HI_SOFTIRQ,
  in_hardirq,
  in_interrupt,
  in_irq,
  in_serving_softirq,
  in_softirq,
  in_task,
  irqs_disabled,
  local_bh_disable,
  local_bh_enable,
  local_irq_restore,
  local_irq_save,
  open_softirq,
  raise_irq,
  raise_softirq,
  shared_words,
  smp_processor_id,
  TASKLET_SOFTIRQ,
  type TaskBody,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_disable,
  tasklet_disable_in_atomic,
  tasklet_disable_nosync,
  tasklet_enable,
  tasklet_free,
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
import { this_cpu } from '../../kernel/percpu.ts';
import { trace } from '../../kernel/trace.ts';
import { clear_bit, layout, setAccessHook } from '../../shm/door.ts';
import {
  C_HEARTBEAT,
  C_SOFTIRQ_COUNT,
  C_SOFTIRQ_PENDING,
  C_WAIT_KIND,
  T_STATE,
  TASKLET_STATE_RUN,
  WaitKind,
} from '../../shm/layout.ts';
import { shm } from '../../shm/memory.ts';
import {
  CTX_HARDIRQ,
  CTX_INTERRUPT,
  CTX_SERVING,
  CTX_SOFTIRQ,
  CTX_TASK,
  F_CHAIN,
  F_CHAIN_HI,
  F_CONTEXT,
  F_CPU_MASK,
  F_DATA,
  F_DELAY_US,
  F_INSIDE,
  F_LAST_CPU,
  F_OVERLAPS,
  F_PASS,
  F_PASS_CPU,
  F_PID,
  F_RESCHEDULE,
  F_RESCHEDULE_HI,
  F_RUNS,
  F_SAME_PASS,
  F_SEQ,
  F_TRACE_ENTRIES,
  F_TRACE_EXITS,
  F_UNLOCK,
  field,
  LOG_MAX,
  LOG_REC,
  PROBE_IRQ,
  PROBE_OLD,
  PROBE_OLD_DISABLED,
  PROBE_WORDS,
  PROBES,
  W_BLOCK_CPU,
  W_BLOCK_CTX,
  W_BLOCK_PID,
  W_BLOCK_RUNS,
  W_DYN_DATA,
  W_DYN_RUNS,
  W_HOLDERS,
  W_INJ_DONE,
  W_INJ_ID,
  W_INJ_LATE,
  W_INJ_OP,
  W_IRQ_GEN,
  W_LOG,
  W_LOG_LEN,
  W_RELEASE,
  W_SEQ,
} from './probe-layout.ts';

export { PROBES };

/** First claim of the module region: tests find these words at the machine's module base. */
const words = shared_words(PROBE_WORDS);

/** BLOCK_SOFTIRQ: a vector no tasklet uses, opened by the probe to watch raise_softirq. */
const BLOCK_SOFTIRQ = 4;

function contextBits(): number {
  let ctx = 0;
  if (in_serving_softirq()) ctx |= CTX_SERVING;
  if (in_interrupt()) ctx |= CTX_INTERRUPT;
  if (in_hardirq()) ctx |= CTX_HARDIRQ;
  if (in_softirq()) ctx |= CTX_SOFTIRQ;
  if (in_task()) ctx |= CTX_TASK;
  return ctx;
}

/** One value per tasklet_action call on this CPU: each pass bumps the count of the vector it runs. */
function passOfThisCpu(): number {
  const base = this_cpu.base + C_SOFTIRQ_COUNT;
  return (shm.mem[base + HI_SOFTIRQ] + shm.mem[base + TASKLET_SOFTIRQ]) | 0;
}

function record(id: number, t: TaskletStruct): void {
  const me = smp_processor_id();
  if (Atomics.compareExchange(words, field(id, F_INSIDE), 0, me + 1) !== 0)
    Atomics.add(words, field(id, F_OVERLAPS), 1);
  const delay = Atomics.load(words, field(id, F_DELAY_US));
  if (delay > 0) udelay(delay);
  const ctx = contextBits();
  const pid = current().pid;
  const pass = passOfThisCpu();
  if (
    Atomics.load(words, field(id, F_RUNS)) > 0 &&
    Atomics.load(words, field(id, F_PASS_CPU)) === me + 1 &&
    Atomics.load(words, field(id, F_PASS)) === pass
  )
    Atomics.add(words, field(id, F_SAME_PASS), 1);
  Atomics.store(words, field(id, F_PASS_CPU), me + 1);
  Atomics.store(words, field(id, F_PASS), pass);
  Atomics.store(words, field(id, F_CONTEXT), ctx);
  Atomics.store(words, field(id, F_PID), pid);
  Atomics.store(words, field(id, F_LAST_CPU), me);
  Atomics.or(words, field(id, F_CPU_MASK), 1 << me);
  const seq = Atomics.add(words, W_SEQ, 1);
  Atomics.store(words, field(id, F_SEQ), seq + 1);
  const slot = Atomics.add(words, W_LOG_LEN, 1);
  if (slot < LOG_MAX) {
    const at = W_LOG + slot * LOG_REC;
    words.set([id, me, pid, ctx, Atomics.load(words, W_IRQ_GEN + me), pass], at);
  }
  Atomics.add(words, field(id, F_RUNS), 1);
  Atomics.compareExchange(words, field(id, F_INSIDE), me + 1, 0);
  const unlock = Atomics.exchange(words, field(id, F_UNLOCK), 0);
  if (unlock > 0) tasklet_unlock(tasklet_from_id(unlock - 1));
  const chain = Atomics.exchange(words, field(id, F_CHAIN), 0);
  if (chain > 0) {
    const hi = Atomics.exchange(words, field(id, F_CHAIN_HI), 0) !== 0;
    (hi ? tasklet_hi_schedule : tasklet_schedule)(tasklet_from_id(chain - 1));
  }
  if (Atomics.load(words, field(id, F_RESCHEDULE)) > 0) {
    Atomics.sub(words, field(id, F_RESCHEDULE), 1);
    tasklet_schedule(t);
  } else if (Atomics.load(words, field(id, F_RESCHEDULE_HI)) > 0) {
    Atomics.sub(words, field(id, F_RESCHEDULE_HI), 1);
    tasklet_hi_schedule(t);
  }
}

function probe_callback(t: TaskletStruct): void {
  record(t.id, t);
}

/** Old-style func: data carries the tasklet id. */
function probe_func(data: number): void {
  Atomics.store(words, field(data, F_DATA), data);
  record(data, tasklet_from_id(data));
}

/** The _OLD static tasklets get data 0, so each has its own func that knows its id. */
function probe_old_func(data: number): void {
  Atomics.store(words, field(PROBE_OLD, F_DATA), data);
  record(PROBE_OLD, tasklet_from_id(PROBE_OLD));
}

function probe_old_disabled_func(data: number): void {
  Atomics.store(words, field(PROBE_OLD_DISABLED, F_DATA), data);
  record(PROBE_OLD_DISABLED, tasklet_from_id(PROBE_OLD_DISABLED));
}

/** For run-time tasklets (tasklet_alloc): counts runs, keeps the data. */
function dyn_func(data: number): void {
  Atomics.store(words, W_DYN_DATA, data);
  Atomics.add(words, W_DYN_RUNS, 1);
}

export const probes: TaskletStruct[] = [];
for (let i = 0; i < 15; i++) probes.push(DECLARE_TASKLET(`probe${i}`, probe_callback));
probes.push(DECLARE_TASKLET_DISABLED('probe15', probe_callback));
probes.push(DECLARE_TASKLET_OLD('probe16', probe_old_func));
probes.push(DECLARE_TASKLET_DISABLED_OLD('probe17', probe_old_disabled_func));

type Op = { id: number; hi?: boolean; n?: number };
const t = (op: Op): TaskletStruct => tasklet_from_id(op.id);
const sched = (op: Op): void => {
  for (let i = 0; i < (op.n ?? 1); i++) (op.hi ? tasklet_hi_schedule : tasklet_schedule)(t(op));
};

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

function* sleepingOp(fn: () => unknown): TaskBody {
  return fn() ?? true;
}

/** The probe irq: does what W_INJ_OP says to W_INJ_ID, then says so in W_INJ_DONE. */
function probe_irq(): number {
  const op = Atomics.load(words, W_INJ_OP);
  if (op !== 0) sched({ id: Atomics.load(words, W_INJ_ID), hi: op === 2 });
  Atomics.store(words, W_INJ_DONE, 1);
  return 1;
}

/** The probe's BLOCK_SOFTIRQ action: records where and how raise_softirq got it run. */
function probe_block_action(): void {
  Atomics.store(words, W_BLOCK_CTX, contextBits());
  Atomics.store(words, W_BLOCK_PID, current().pid);
  Atomics.store(words, W_BLOCK_CPU, smp_processor_id());
  Atomics.add(words, W_BLOCK_RUNS, 1);
}

/**
 * Interrupt injection: raise the probe irq on `cpu` at exactly the `at`-th shared access that
 * `body` makes (through the runtime's access hook), as if a device interrupted right there.
 * When `cpu` is another CPU, wait (bounded) until its handler has run. Returns how many shared
 * accesses `body` made, so a test can sweep `at` over all of them.
 */
interface Injection {
  at: number;
  cpu: number;
  id: number;
  hi?: boolean;
}

function withInjection(inj: Injection | undefined, body: () => void): number {
  if (inj === undefined) {
    body();
    return 0;
  }
  const me = smp_processor_id();
  let accesses = 0;
  Atomics.store(words, W_INJ_OP, inj.hi ? 2 : 1);
  Atomics.store(words, W_INJ_ID, inj.id);
  Atomics.store(words, W_INJ_DONE, 0);
  Atomics.store(words, W_INJ_LATE, 0);
  setAccessHook(() => {
    if (++accesses !== inj.at) return;
    raise_irq(inj.cpu, PROBE_IRQ);
    if (inj.cpu === me) return; // taken at this very access if interrupts are on
    const deadline = performance.now() + 2000;
    while (Atomics.load(words, W_INJ_DONE) === 0 && performance.now() < deadline);
    if (Atomics.load(words, W_INJ_DONE) === 0) Atomics.store(words, W_INJ_LATE, 1);
  });
  try {
    body();
  } finally {
    setAccessHook(null);
  }
  return accesses;
}

function spinUntilReleased(): boolean {
  const deadline = performance.now() + 15_000;
  while (Atomics.load(words, W_RELEASE) === 0) {
    if (performance.now() > deadline) return false;
    cpu_relax();
  }
  return true;
}

export default defineModule({
  name: 'probe',
  callbacks: [probe_func, probe_callback, dyn_func],
  irqs: { [PROBE_IRQ]: { name: 'probe', handler: probe_irq } },
  cpu_init() {
    open_softirq(BLOCK_SOFTIRQ, probe_block_action);
    const entry = trace.tasklet_entry;
    const exit = trace.tasklet_exit;
    trace.tasklet_entry = (id) => {
      if (id < PROBES) Atomics.add(words, field(id, F_TRACE_ENTRIES), 1);
      entry?.(id);
    };
    const irqExit = trace.irq_handler_exit;
    trace.irq_handler_exit = (irq, ret) => {
      if (!in_serving_softirq()) Atomics.add(words, W_IRQ_GEN + smp_processor_id(), 1);
      irqExit?.(irq, ret);
    };
    trace.tasklet_exit = (id) => {
      if (id < PROBES) Atomics.add(words, field(id, F_TRACE_EXITS), 1);
      exit?.(id);
    };
  },
  calls: {
    /** tasklet_schedule, then TASKLET_SOFTIRQ taken off this CPU's pending word: a raise lost. */
    scheduleUnraised: (arg) => {
      tasklet_schedule(t(arg as Op));
      shm.mem[this_cpu.base + C_SOFTIRQ_PENDING] &= ~(1 << TASKLET_SOFTIRQ);
      return null;
    },
    /** tasklet_schedule n times in a row from hard-irq context on this CPU. */
    schedule: (arg) => {
      sched(arg as Op);
      return smp_processor_id();
    },
    /** Schedules several tasklets in one irq, in the given order (normal or hi per entry). */
    scheduleMany: (arg) => {
      for (const op of arg as Op[]) sched(op);
      return null;
    },
    /** Schedules from hard-irq context with a probe irq injected at one shared access. */
    injectSchedule: (arg) => {
      const { op, inj } = arg as { op: Op; inj: Injection };
      return withInjection(inj, () => sched(op));
    },
    disable_nosync: (arg) => tasklet_disable_nosync(t(arg as Op)),
    disable_in_atomic: (arg) => tasklet_disable_in_atomic(t(arg as Op)),
    /** tasklet_disable_in_atomic, then whether the callback was inside at that moment. */
    disableInAtomicPeek: (arg) => {
      tasklet_disable_in_atomic(t(arg as Op));
      return Atomics.load(words, field((arg as Op).id, F_INSIDE));
    },
    /** tasklet_disable (the sleeping one) from hard-irq context: a misuse. */
    disable: (arg) => tasklet_disable(t(arg as Op)),
    enable: (arg) => tasklet_enable(t(arg as Op)),
    /** Several enables in one irq: no softirq pass can run between them. */
    enableMany: (arg) => {
      for (const op of arg as Op[]) tasklet_enable(t(op));
      return null;
    },
    trylock: (arg) => tasklet_trylock(t(arg as Op)),
    unlock: (arg) => tasklet_unlock(t(arg as Op)),
    /** A broken tasklet_unlock (test/lost-wakeup.test.ts): RUN cleared, no wake_up_var. */
    unlockNoWake: (arg) => clear_bit(TASKLET_STATE_RUN, t(arg as Op).addr + T_STATE),
    /**
     * unlockNoWake the moment CPU `waiter`'s wait for RUN has looked at the bit and found it set:
     * while that wait still spins, long before it would sleep (no message latency in between).
     */
    unlockNoWakeOnceLooked: (arg) => {
      const { id, waiter } = arg as Op & { waiter: number };
      const base = layout().cpu(waiter);
      const deadline = Date.now() + 10_000;
      const spinUntil = (what: string, done: () => boolean): void => {
        while (!done())
          if (Date.now() > deadline) throw new Error(`unlockNoWakeOnceLooked: ${what} never came`);
      };
      spinUntil('the wait', () => Atomics.load(shm.mem, base + C_WAIT_KIND) === WaitKind.TaskletRunClear);
      const beat = Atomics.load(shm.mem, base + C_HEARTBEAT);
      spinUntil('its look at RUN', () => Atomics.load(shm.mem, base + C_HEARTBEAT) !== beat);
      clear_bit(TASKLET_STATE_RUN, t({ id }).addr + T_STATE);
      return null;
    },
    unlock_spin_wait: (arg) => tasklet_unlock_spin_wait(t(arg as Op)),
    kill: (arg) => tasklet_kill(t(arg as Op)),
    init_func: (arg) => tasklet_init(t(arg as Op), probe_func, (arg as Op).id),
    setup: (arg) => tasklet_setup(t(arg as Op), probe_callback),
    /** tasklet_init on a tasklet this irq has just queued (a misuse: SCHED is lost). */
    scheduleThenInit: (arg) => {
      sched(arg as Op);
      tasklet_init(t(arg as Op), probe_func, (arg as Op).id);
      return null;
    },
    set: (arg) => {
      const { id, f, value } = arg as { id: number; f: number; value: number };
      Atomics.store(words, field(id, f), value);
      return null;
    },
    get: (arg) => snapshot((arg as Op).id),
    log: () => {
      const out: number[] = [];
      for (let i = 0; i < Math.min(LOG_MAX, Atomics.load(words, W_LOG_LEN)); i++)
        out.push(words[W_LOG + i * LOG_REC]);
      return out;
    },
    resetLog: () => Atomics.store(words, W_LOG_LEN, 0),
    context: () => ({
      hardirq: in_hardirq(),
      irq: in_irq(),
      interrupt: in_interrupt(),
      softirq: in_softirq(),
      serving: in_serving_softirq(),
      task: in_task(),
      cpu: smp_processor_id(),
      pid: current().pid,
      comm: current().comm,
    }),
    /** Schedules inside a local_irq_save section: runs after local_irq_restore. */
    scheduleIrqsOff: (arg) => {
      const flags = local_irq_save();
      tasklet_schedule(t(arg as Op));
      local_irq_restore(flags);
      return null;
    },
    raiseBlock: () => raise_softirq(BLOCK_SOFTIRQ),
    /** tasklet_alloc n times; stops at the first error and reports it. */
    alloc: (arg) => {
      const ids: number[] = [];
      try {
        for (let i = 0; i < (arg as { n: number }).n; i++) ids.push(tasklet_alloc(`dyn${i}`).id);
        return { ids, error: null };
      } catch (error) {
        const e = error as Error;
        return { ids, error: { name: e.name, message: e.message } };
      }
    },
    free: (arg) => {
      for (const id of arg as number[]) tasklet_free(tasklet_from_id(id));
      return null;
    },
    /** Initialises a run-time tasklet with the old func form and data. */
    initDyn: (arg) => {
      const { id, data } = arg as { id: number; data: number };
      tasklet_init(tasklet_from_id(id), dyn_func, data);
      return null;
    },
    /** State word, count and use_callback of any tasklet. */
    tstate: (arg) => {
      const tl = t(arg as Op);
      return { state: tl.state, count: tl.count, useCallback: tl.use_callback, name: tl.name };
    },
  },
  tasks: {
    disable: (arg) => sleepingOp(() => tasklet_disable(t(arg as Op))),
    /** tasklet_disable, then whether the callback was inside right after it returned. */
    disablePeek: (arg) =>
      sleepingOp(() => {
        tasklet_disable(t(arg as Op));
        return { inside: Atomics.load(words, field((arg as Op).id, F_INSIDE)) };
      }),
    /** tasklet_kill, then what the tasklet looked like right after it returned. */
    killPeek: (arg) =>
      sleepingOp(() => {
        const id = (arg as Op).id;
        tasklet_kill(t(arg as Op));
        return {
          state: t(arg as Op).state,
          inside: Atomics.load(words, field(id, F_INSIDE)),
          runs: Atomics.load(words, field(id, F_RUNS)),
        };
      }),
    kill: (arg) => sleepingOp(() => tasklet_kill(t(arg as Op))),
    unlock_wait: (arg) => sleepingOp(() => tasklet_unlock_wait(t(arg as Op))),
    /** Process-context schedule: raise_softirq_irqoff wakes ksoftirqd. */
    schedule: (arg) => sleepingOp(() => sched(arg as Op)),
    /** Process-context schedule with a probe irq injected at one shared access. */
    *injectSchedule(arg): TaskBody {
      const { op, inj } = arg as { op: Op; inj: Injection };
      return withInjection(inj, () => sched(op));
    },
    context: () =>
      sleepingOp(() => ({
        hardirq: in_hardirq(),
        irq: in_irq(),
        interrupt: in_interrupt(),
        softirq: in_softirq(),
        serving: in_serving_softirq(),
        task: in_task(),
        cpu: smp_processor_id(),
        pid: current().pid,
        comm: current().comm,
      })),
    /** Contexts inside local_bh_disable: in_softirq and in_interrupt, but not serving. */
    *bhContext(): TaskBody {
      local_bh_disable();
      const inside = contextBits();
      local_bh_enable();
      return { inside, after: contextBits() };
    },
    raiseBlock: () => sleepingOp(() => raise_softirq(BLOCK_SOFTIRQ)),
    /** Schedule under local_bh_disable: nothing runs until the outermost local_bh_enable. */
    *bhSection(arg): TaskBody {
      const op = arg as Op;
      local_bh_disable();
      local_bh_disable();
      tasklet_schedule(t(op));
      udelay(2000);
      const runsInside = Atomics.load(words, field(op.id, F_RUNS));
      local_bh_enable();
      const runsInner = Atomics.load(words, field(op.id, F_RUNS));
      local_bh_enable();
      const runsAfter = Atomics.load(words, field(op.id, F_RUNS));
      return { runsInside, runsInner, runsAfter };
    },
    /**
     * local_irq_save in process context: the probe irq raised on this CPU stays pending (its
     * handler schedules op) until local_irq_restore, which takes it and runs the softirq on exit.
     */
    *irqSection(arg): TaskBody {
      const op = arg as Op;
      Atomics.store(words, W_INJ_OP, op.hi ? 2 : 1);
      Atomics.store(words, W_INJ_ID, op.id);
      Atomics.store(words, W_INJ_DONE, 0);
      const flags = local_irq_save();
      const disabledInside = irqs_disabled();
      raise_irq(smp_processor_id(), PROBE_IRQ);
      udelay(2000);
      const handledInside = Atomics.load(words, W_INJ_DONE);
      const runsInside = Atomics.load(words, field(op.id, F_RUNS));
      local_irq_restore(flags);
      return {
        flags,
        disabledInside,
        handledInside,
        runsInside,
        handledAfter: Atomics.load(words, W_INJ_DONE),
        runsAfter: Atomics.load(words, field(op.id, F_RUNS)),
        disabledAfter: irqs_disabled(),
      };
    },
    /**
     * Holds this CPU in a bh-disabled section (no softirq runs here: not on irq exit, not in
     * ksoftirqd) while it schedules `ops` (optionally with an injected irq), until W_RELEASE.
     */
    *hold(arg): TaskBody {
      const { ops, inj } = (arg ?? {}) as { ops?: Op[]; inj?: Injection };
      local_bh_disable();
      Atomics.add(words, W_HOLDERS, 1);
      const accesses = withInjection(inj, () => {
        for (const op of ops ?? []) sched(op);
      });
      const released = spinUntilReleased();
      Atomics.sub(words, W_HOLDERS, 1);
      local_bh_enable();
      return { accesses, released };
    },
  },
});
