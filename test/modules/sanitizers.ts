/**
 * Test driver for KCSAN and KASAN (test/sanitizers.test.ts): planted races and lifetime bugs,
 * and their correct twins, each in its own task so a test provokes exactly one report. The
 * racing pairs touch distinct fields, so each pair's report has its own title.
 */
import {
  atomic_inc,
  atomic_read,
  DEFINE_SHARED,
  DEFINE_SPINLOCK,
  DEFINE_STRUCT,
  defineModule,
  FIRST_DEVICE_IRQ,
  free_irq,
  from_tasklet,
  kfree,
  kzalloc,
  READ_ONCE,
  raise_irq,
  request_irq,
  smp_processor_id,
  spin_lock,
  spin_unlock,
  type TaskBody,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_disable,
  tasklet_enable,
  tasklet_free,
  tasklet_kill,
  tasklet_schedule,
  tasklet_setup,
  tasklet_unlock_wait,
  udelay,
  WRITE_ONCE,
} from 'tasklet-rt';

export const SANITIZERS_IRQ = FIRST_DEVICE_IRQ + 7;
const SLOW_IRQ = FIRST_DEVICE_IRQ + 8;
const ROUNDS = 4000;

const data = DEFINE_SHARED('sanitizers', {
  racy: 0,
  locked: 0,
  marked: 0,
  counted: 0,
  irqRacy: 0,
  irqMarked: 0,
  done: 0,
  slowRuns: 0,
  slowOut: 0,
});
const data_lock = DEFINE_SPINLOCK('data_lock');
const dev_t = DEFINE_STRUCT('sanitizers_dev', ['packets', 'irqs']);

function plain_writer(): void {
  for (let i = 0; i < ROUNDS; i++) data.racy = i;
}
function plain_reader(): number {
  let sum = 0;
  for (let i = 0; i < ROUNDS; i++) sum += data.racy;
  return sum;
}
function locked_writer(): void {
  for (let i = 0; i < ROUNDS / 40; i++) {
    // lockdep takes a call trace per acquisition
    spin_lock(data_lock);
    data.locked = data.locked + 1;
    spin_unlock(data_lock);
  }
}
function marked_writer(): void {
  for (let i = 0; i < ROUNDS; i++) {
    WRITE_ONCE(data, 'marked', i);
    atomic_inc(data, 'counted');
  }
}
function marked_reader(): number {
  let sum = 0;
  for (let i = 0; i < ROUNDS; i++) sum += READ_ONCE(data, 'marked') + atomic_read(data, 'counted');
  return sum;
}

/** Two CPUs: a task and a task, or a task and this CPU's interrupt handler. */
function* pair(work: () => unknown): TaskBody<number> {
  work();
  atomic_inc(data, 'done');
  return 0;
}

function sanitizers_interrupt(): void {
  data.irqRacy = data.irqRacy + 1; // plain, against the task on the same CPU
  atomic_inc(data, 'irqMarked');
}

function uaf_callback(t: TaskletStruct): void {
  const dev = dev_t.at(from_tasklet(t));
  dev.packets = dev.packets + 1;
}

const idle = (): void => {};

/** A machine-wide handler that takes its time. */
function slow_interrupt(): void {
  atomic_inc(data, 'slowRuns');
  udelay(3000);
  WRITE_ONCE(data, 'slowOut', 1);
}

export default defineModule({
  name: 'sanitizers',
  callbacks: [uaf_callback, idle, slow_interrupt],
  irqs: { [SANITIZERS_IRQ]: { name: 'sanitizers', handler: sanitizers_interrupt } },
  tasks: {
    plainWriter: () => pair(plain_writer),
    plainReader: () => pair(plain_reader),
    lockedWriter: () => pair(locked_writer),
    markedWriter: () => pair(marked_writer),
    markedReader: () => pair(marked_reader),
    /** A task writing a field plainly while its own CPU's interrupts write it too. */
    *taskVsIrq(): TaskBody<void> {
      for (let i = 0; i < ROUNDS; i++) {
        if (i % 8 === 0) raise_irq(smp_processor_id(), SANITIZERS_IRQ);
        data.irqRacy = i;
      }
    },
    /** The same with the task's side marked: a race needs two plain accesses. */
    *taskVsIrqMarked(): TaskBody<void> {
      for (let i = 0; i < ROUNDS; i++) {
        if (i % 8 === 0) raise_irq(smp_processor_id(), SANITIZERS_IRQ);
        atomic_read(data, 'irqMarked');
      }
    },

    /** free_irq while CPU1 runs the handler: it returns only after the handler has. */
    *freeIrqWaits(): TaskBody<number[]> {
      const rc = request_irq(SLOW_IRQ, slow_interrupt, 'slow', 0);
      raise_irq(1, SLOW_IRQ);
      while (READ_ONCE(data, 'slowRuns') === 0) udelay(10);
      free_irq(SLOW_IRQ);
      const out = READ_ONCE(data, 'slowOut');
      raise_irq(1, SLOW_IRQ); // masked now: dropped, no "nobody cared"
      udelay(2000);
      return [rc, out, READ_ONCE(data, 'slowRuns')];
    },

    // KASAN
    *objectUseAfterFree(): TaskBody<void> {
      const dev = kzalloc(dev_t)!;
      dev.packets = 1;
      kfree(dev);
      dev.irqs = dev.packets; // read, then write, of freed memory
    },
    *doubleFree(): TaskBody<void> {
      const dev = kzalloc(dev_t)!;
      kfree(dev);
      kfree(dev);
    },
    *freedWhileScheduled(): TaskBody<void> {
      const t = tasklet_alloc('freed_while_scheduled');
      tasklet_setup(t, idle);
      tasklet_disable(t); // queued but not run until enabled... and it never will be
      tasklet_schedule(t);
      tasklet_free(t);
      tasklet_enable(t);
    },
    *scheduleAfterFree(): TaskBody<void> {
      const t = tasklet_alloc('schedule_after_free');
      tasklet_setup(t, idle);
      tasklet_schedule(t);
      tasklet_kill(t);
      tasklet_free(t);
      tasklet_schedule(t);
    },
    *callbackUseAfterFree(): TaskBody<void> {
      const dev = kzalloc(dev_t)!;
      const t = tasklet_alloc('uaf_tasklet', dev.addr);
      tasklet_setup(t, uaf_callback);
      tasklet_disable(t);
      tasklet_schedule(t);
      kfree(dev); // BUG: the tasklet is still scheduled and will touch dev
      tasklet_enable(t);
      udelay(100);
      tasklet_kill(t);
      tasklet_free(t);
    },
    /** The correct order: the tasklet is killed before its data goes, then freed. */
    *cleanTeardown(): TaskBody<void> {
      for (let i = 0; i < 20; i++) {
        const dev = kzalloc(dev_t)!;
        const t = tasklet_alloc('clean_tasklet', dev.addr);
        tasklet_setup(t, uaf_callback);
        tasklet_schedule(t);
        tasklet_kill(t);
        tasklet_unlock_wait(t);
        tasklet_free(t);
        kfree(dev);
        yield;
      }
    },
  },
});
