/**
 * Test driver for the kernel-fidelity behaviours (test/fidelity.test.ts): interrupts that arrive
 * together, local_bh_enable with interrupts off, might_sleep on idle tasklets, a softirq action
 * that leaks preempt_count, and the lockdep-style assertions. Results go to shared words.
 */
import {
  __raise_softirq_irqoff,
  BLOCK_SOFTIRQ,
  DECLARE_TASKLET,
  defineModule,
  local_bh_disable,
  local_bh_enable,
  local_irq_disable,
  local_irq_enable,
  local_irq_restore,
  local_irq_save,
  open_softirq,
  preempt_count,
  preempt_disable,
  raise_irq,
  raise_softirq,
  shared_words,
  smp_processor_id,
  type TaskBody,
  tasklet_disable,
  tasklet_enable,
  tasklet_schedule,
  tasklet_unlock_wait,
} from 'tasklet-rt';
import {
  FIDELITY_WORDS,
  NEST_IRQ_A,
  NEST_IRQ_B,
  W_B_PREEMPT,
  W_B_RUNS,
  W_BH_PREEMPT,
  W_BH_RUNS,
  W_LEAK_RUNS,
  W_NEST_RUNS,
} from './fidelity-layout.ts';

const words = shared_words(FIDELITY_WORDS, 'fidelity');

const nest_tasklet = DECLARE_TASKLET('nest_tasklet', function nest_fn(): void {
  Atomics.add(words, W_NEST_RUNS, 1);
});

const bh_tasklet = DECLARE_TASKLET('bh_tasklet', function bh_fn(): void {
  Atomics.store(words, W_BH_PREEMPT, preempt_count());
  Atomics.add(words, W_BH_RUNS, 1);
});

const idle_tasklet = DECLARE_TASKLET('idle_tasklet', function idle_fn(): void {});

/** BLOCK_SOFTIRQ's action here: it returns with preemption still disabled (a leak). */
function leaky_block_action(): void {
  Atomics.add(words, W_LEAK_RUNS, 1);
  preempt_disable();
}

export default defineModule({
  name: 'fidelity',
  irqs: {
    [NEST_IRQ_A]: { name: 'nest-a', handler: () => tasklet_schedule(nest_tasklet) },
    [NEST_IRQ_B]: {
      name: 'nest-b',
      handler: () => {
        Atomics.store(words, W_B_PREEMPT, preempt_count());
        Atomics.add(words, W_B_RUNS, 1);
      },
    },
  },
  cpu_init() {
    open_softirq(BLOCK_SOFTIRQ, leaky_block_action);
  },
  tasks: {
    /** Two lines latched together while interrupts are off; A's tasklet softirq runs on A's exit. */
    *nest(): TaskBody {
      const flags = local_irq_save();
      raise_irq(smp_processor_id(), NEST_IRQ_A);
      raise_irq(smp_processor_id(), NEST_IRQ_B);
      local_irq_restore(flags);
      return { bPreempt: Atomics.load(words, W_B_PREEMPT), nestRuns: Atomics.load(words, W_NEST_RUNS) };
    },
    /** local_bh_enable with interrupts off: the tasklet raised meanwhile runs inside it. */
    *bhIrqsOff(): TaskBody {
      local_irq_disable();
      local_bh_disable();
      tasklet_schedule(bh_tasklet);
      const inside = Atomics.load(words, W_BH_RUNS);
      local_bh_enable();
      const after = Atomics.load(words, W_BH_RUNS);
      local_irq_enable();
      return { inside, after, preempt: Atomics.load(words, W_BH_PREEMPT), countAfter: preempt_count() };
    },
    /** __raise_softirq_irqoff with interrupts on: lockdep_assert_irqs_disabled. */
    *raiseIrqsOn(): TaskBody {
      __raise_softirq_irqoff(BLOCK_SOFTIRQ);
      local_irq_disable();
      local_irq_enable();
      return preempt_count();
    },
  },
  calls: {
    /** Hard-irq context, tasklet idle: the waits still call might_sleep first. */
    disableIdle: () => {
      tasklet_disable(idle_tasklet);
      tasklet_enable(idle_tasklet);
    },
    unlockWaitIdle: () => tasklet_unlock_wait(idle_tasklet),
    bhInHardirq: () => {
      local_bh_disable();
      local_bh_enable();
    },
    /** Raises BLOCK_SOFTIRQ; the leaky action runs on this irq's exit. */
    raiseLeaky: () => raise_softirq(BLOCK_SOFTIRQ),
    preemptCount: () => preempt_count(),
  },
});
