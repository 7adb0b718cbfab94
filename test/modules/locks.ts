/**
 * Test driver for spinlocks and lockdep (test/locks.test.ts): a counter two CPUs increment under
 * a lock, and the classic misuses, each in its own call or task so a test provokes exactly one.
 */
import {
  DECLARE_TASKLET,
  DEFINE_SPINLOCK,
  defineModule,
  raise_irq,
  shared_words,
  smp_processor_id,
  spin_lock,
  spin_lock_bh,
  spin_lock_init,
  spin_lock_irqsave,
  spin_trylock,
  spin_unlock,
  spin_unlock_bh,
  spin_unlock_irqrestore,
  spinlock_t,
  type TaskBody,
  tasklet_schedule,
  tasklet_unlock_wait,
  udelay,
} from 'tasklet-rt';
import { LOCKS_IRQ, LOCKS_WORDS, ROUNDS, W_COUNTER, W_IRQ_RUNS, W_ROUNDS_DONE } from './locks-layout.ts';

const words = shared_words(LOCKS_WORDS, 'locks');

const counter_lock = DEFINE_SPINLOCK('counter_lock');
const bh_lock = DEFINE_SPINLOCK('bh_lock');
const bh_safe_lock = DEFINE_SPINLOCK('bh_safe_lock');
const irq_lock = DEFINE_SPINLOCK('irq_lock');
const lock_a = DEFINE_SPINLOCK('lock_a');
const lock_b = DEFINE_SPINLOCK('lock_b');
const self_lock = DEFINE_SPINLOCK('self_lock');
const owned_lock = DEFINE_SPINLOCK('owned_lock');
const dev_lock = new spinlock_t('dev->lock'); // a struct member: needs spin_lock_init
const idle_tasklet = DECLARE_TASKLET('locks_idle', () => {});

const bh_tasklet = DECLARE_TASKLET('locks_bh', function locks_bh_tasklet(): void {
  spin_lock(bh_lock);
  spin_unlock(bh_lock);
  spin_lock(bh_safe_lock);
  spin_unlock(bh_safe_lock);
});

export default defineModule({
  name: 'locks',
  irqs: {
    [LOCKS_IRQ]: {
      name: 'locks',
      handler: function locks_interrupt(): void {
        spin_lock(irq_lock);
        Atomics.add(words, W_IRQ_RUNS, 1);
        spin_unlock(irq_lock);
      },
    },
  },
  tasks: {
    /** ROUNDS increments of a plain read-modify-write, each under counter_lock. */
    *count(): TaskBody<void> {
      for (let i = 0; i < ROUNDS; i++) {
        spin_lock(counter_lock);
        const v = Atomics.load(words, W_COUNTER);
        udelay(1); // a window another CPU would hit without the lock
        Atomics.store(words, W_COUNTER, v + 1);
        spin_unlock(counter_lock);
      }
      Atomics.add(words, W_ROUNDS_DONE, 1);
    },
    /** Process context, softirqs on: bh_lock plainly (wrong), bh_safe_lock with _bh (right). */
    *bhUsers(): TaskBody<void> {
      spin_lock(bh_lock);
      spin_unlock(bh_lock);
      spin_lock_bh(bh_safe_lock);
      spin_unlock_bh(bh_safe_lock);
      tasklet_schedule(bh_tasklet);
    },
    /** Process context, hard irqs on: irq_lock plainly, then the irq takes it. */
    *irqUser(): TaskBody<void> {
      spin_lock(irq_lock);
      spin_unlock(irq_lock);
      raise_irq(smp_processor_id(), LOCKS_IRQ);
    },
    /** irq_lock with irqsave: what the irq handler's users should do (no report after a fix). */
    *irqSafeUser(): TaskBody<void> {
      const flags = spin_lock_irqsave(irq_lock);
      spin_unlock_irqrestore(irq_lock, flags);
      raise_irq(smp_processor_id(), LOCKS_IRQ);
    },
    *orderAB(): TaskBody<void> {
      spin_lock(lock_a);
      spin_lock(lock_b);
      spin_unlock(lock_b);
      spin_unlock(lock_a);
    },
    *orderBA(): TaskBody<void> {
      spin_lock(lock_b);
      spin_lock(lock_a);
      spin_unlock(lock_a);
      spin_unlock(lock_b);
    },
    /** Takes self_lock twice: lockdep reports, then the CPU spins on itself (a real deadlock). */
    *recursive(): TaskBody<void> {
      spin_lock(self_lock);
      spin_lock(self_lock);
    },
    /** Uses dev->lock before spin_lock_init, then initialises it and uses it properly. */
    *uninitialised(): TaskBody<void> {
      if (spin_trylock(dev_lock)) spin_unlock(dev_lock);
      spin_lock_init(dev_lock);
      spin_lock(dev_lock);
      spin_unlock(dev_lock);
    },
    /** A sleeping wait with a spinlock held. */
    *sleepLocked(): TaskBody<void> {
      spin_lock(counter_lock);
      tasklet_unlock_wait(idle_tasklet);
      spin_unlock(counter_lock);
    },
    *takeOwned(): TaskBody<void> {
      spin_lock(owned_lock);
    },
  },
  calls: {
    /** Unlocks owned_lock from another CPU's interrupt: not the owner. */
    releaseOwned: () => spin_unlock(owned_lock),
  },
});
