/**
 * Test driver for the driver-facing API beyond tasklets (test/driver-api.test.ts): completions
 * completed by a tasklet on another CPU, disable_irq and enable_irq on a line whose handler
 * takes a while, and the atomic bit operations on a flags field.
 */
import {
  atomic_inc,
  atomic_set,
  BUG_ON,
  clear_bit,
  complete,
  complete_all,
  DECLARE_TASKLET,
  DEFINE_SHARED,
  defineModule,
  disable_irq,
  enable_irq,
  local_bh_disable,
  local_bh_enable,
  mutex_lock,
  mutex_unlock,
  pr_err,
  READ_ONCE,
  request_irq,
  schedule,
  set_bit,
  type TaskBody,
  tasklet_schedule,
  test_and_clear_bit,
  test_and_set_bit,
  test_bit,
  udelay,
  WARN_ON,
  WARN_ON_ONCE,
  WRITE_ONCE,
  wait_for_completion,
  wait_for_completion_timeout,
} from 'tasklet-rt';
import {
  DAPI_IRQ,
  DAPI_SHARED_IRQ,
  F_HANDLER_IN,
  F_HANDLER_OUT,
  F_SHARED_INSIDE,
  HANDLER_US,
  MUTEX_ROUNDS,
  SHARED_HANDLER_US,
} from './driver-api-layout.ts';

const dev = DEFINE_SHARED('dapi', {
  done: 0,
  woke: 0,
  left: 0,
  flags: 0,
  irqs: 0,
  slow: 0,
  lock: 0,
  counter: 0,
  shared_runs: 0,
  overlaps: 0,
  ready: 0,
  shared_slow: 0,
});

const done_tasklet = DECLARE_TASKLET('dapi_done', function dapi_done(): void {
  complete(dev, 'done');
});

function dapi_interrupt(): void {
  atomic_inc(dev, 'irqs');
  if (READ_ONCE(dev, 'slow') === 0) return;
  set_bit(F_HANDLER_IN, dev, 'flags');
  udelay(HANDLER_US);
  set_bit(F_HANDLER_OUT, dev, 'flags');
}

/** A request_irq'd (machine-wide) line's handler: is it ever entered while it runs elsewhere? */
function dapi_shared_interrupt(): void {
  if (test_and_set_bit(F_SHARED_INSIDE, dev, 'flags')) atomic_inc(dev, 'overlaps');
  udelay(READ_ONCE(dev, 'shared_slow') === 0 ? SHARED_HANDLER_US : HANDLER_US);
  dev.shared_runs = dev.shared_runs + 1; // plain: one CPU at a time runs it
  clear_bit(F_SHARED_INSIDE, dev, 'flags');
}

export default defineModule({
  name: 'driver-api',
  callbacks: [dapi_shared_interrupt],
  init(): void {
    const rc = request_irq(DAPI_SHARED_IRQ, dapi_shared_interrupt, 'dapi-shared');
    if (rc !== 0) pr_err(`driver-api: request_irq(${DAPI_SHARED_IRQ}) failed: ${rc}`);
    atomic_set(dev, 'ready', 1);
  },
  irqs: { [DAPI_IRQ]: { name: 'dapi', handler: dapi_interrupt } },
  tasks: {
    /** MUTEX_ROUNDS plain read-modify-writes under the mutex, some sleeping inside it. */
    *mutexCount(): TaskBody<void> {
      for (let i = 0; i < MUTEX_ROUNDS; i++) {
        yield* mutex_lock(dev, 'lock');
        const v = dev.counter;
        udelay(5); // a window another CPU would hit without the mutex
        if (i % 10 === 0) yield* schedule(); // and one this CPU's other tasks would
        dev.counter = v + 1;
        mutex_unlock(dev, 'lock');
      }
    },
    *mutexTake(): TaskBody<void> {
      yield* mutex_lock(dev, 'lock');
    },
    *mutexRelease(): TaskBody<void> {
      mutex_unlock(dev, 'lock');
    },
    *mutexAtomic(): TaskBody<void> {
      local_bh_disable();
      yield* mutex_lock(dev, 'lock');
      mutex_unlock(dev, 'lock');
      local_bh_enable();
    },
    /** disable_irq (process context: it may sleep), then whether the handler running elsewhere had finished. */
    *disabler(): TaskBody<boolean> {
      disable_irq(DAPI_IRQ);
      return test_bit(F_HANDLER_OUT, dev, 'flags');
    },
    *waiter(): TaskBody<void> {
      yield* wait_for_completion(dev, 'done');
      atomic_inc(dev, 'woke');
    },
    *timedWaiter(timeout): TaskBody<void> {
      WRITE_ONCE(dev, 'left', yield* wait_for_completion_timeout(dev, 'done', timeout as number));
      atomic_inc(dev, 'woke');
    },
    /** A wait that may sleep with softirqs off: the kernel's BUG, whether or not it sleeps. */
    *waitAtomic(): TaskBody<void> {
      local_bh_disable();
      yield* wait_for_completion(dev, 'done');
      local_bh_enable();
      atomic_inc(dev, 'woke');
    },
  },
  calls: {
    completeFromTasklet: () => tasklet_schedule(done_tasklet),
    completeAll: () => complete_all(dev, 'done'),
    reset: () => {
      for (const field of [
        'done',
        'woke',
        'left',
        'flags',
        'irqs',
        'slow',
        'lock',
        'counter',
        'overlaps',
      ] as const)
        atomic_set(dev, field, 0);
    },
    slowHandler: () => atomic_set(dev, 'slow', 1),
    slowSharedHandler: () => atomic_set(dev, 'shared_slow', 1),
    enable: () => enable_irq(DAPI_IRQ),
    bits: () => [
      test_and_set_bit(3, dev, 'flags'),
      test_and_set_bit(3, dev, 'flags'),
      test_bit(3, dev, 'flags'),
      test_and_clear_bit(3, dev, 'flags'),
      test_bit(3, dev, 'flags'),
    ],
    warnOn: (arg) => WARN_ON(arg === true),
    warnOnOnce: () => WARN_ON_ONCE(true),
    bugOn: () => {
      BUG_ON(true);
      return 'returned';
    },
    badBit: () => {
      try {
        set_bit(32, dev, 'flags');
        return 'no error';
      } catch (error) {
        return (error as Error).message;
      }
    },
  },
});
