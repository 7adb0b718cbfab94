/**
 * examples/rx-counter.ts with the fix: the stats reader takes the lock with spin_lock_irqsave,
 * so no interrupt can come in on its CPU while it holds the lock; the tasklet keeps plain
 * spin_lock (in softirq context the irq handler is the only other user, and it cannot be
 * interrupted by a softirq), as drivers do. Runs clean:
 *
 *   npx tasklet-rt run examples/rx-counter-fixed.ts --cpus 2 --duration 1s
 *
 * The statistics are plain fields of shared data: the lock orders every access. A reader that
 * skips the lock ("it only reads") races with the writers, and KCSAN reports it:
 *
 *   npx tasklet-rt run examples/rx-counter-fixed.ts --cpus 2 --duration 2s --param rx-counter-fixed.lockless_reader=1
 *
 * "BUG: KCSAN: data-race in reader / rx_interrupt" (or rx_process), with both sides (exit 1).
 * READ_ONCE(stats, 'seen') would say the race is intended (a statistic may be stale) and silence it.
 */
import {
  DECLARE_TASKLET,
  DEFINE_SHARED,
  DEFINE_SPINLOCK,
  defineModule,
  FIRST_DEVICE_IRQ,
  module_param,
  nr_cpu_ids,
  pr_info,
  READ_ONCE,
  raise_irq,
  smp_processor_id,
  spin_lock,
  spin_lock_irqsave,
  spin_unlock,
  spin_unlock_irqrestore,
  type TaskBody,
  tasklet_schedule,
  udelay,
  WARN,
} from 'tasklet-rt';

const RX_IRQ = FIRST_DEVICE_IRQ;
const stats = DEFINE_SHARED('rx-stats', { seen: 0, done: 0 }); // packets seen by the irq, processed
const stats_lock = DEFINE_SPINLOCK('rx_stats_lock');
const lockless_reader = module_param('rx-counter-fixed', 'lockless_reader', 0) !== 0;

const rx_tasklet = DECLARE_TASKLET('rx_tasklet', function rx_process(): void {
  // Softirq context, hard irqs on: the irq handler takes this lock, so irqs go off here too.
  const flags = spin_lock_irqsave(stats_lock);
  stats.done++; // plain accesses: the lock orders them
  spin_unlock_irqrestore(stats_lock, flags);
});

function rx_interrupt(): void {
  spin_lock(stats_lock); // hard-irq context: interrupts are already off
  stats.seen++;
  spin_unlock(stats_lock);
  tasklet_schedule(rx_tasklet);
}

export default defineModule({
  name: 'rx-counter-fixed',
  irqs: { [RX_IRQ]: { name: 'rx', handler: rx_interrupt } },
  // What `tasklet-rt stress` and `fuzz` drive: rx interrupts on random CPUs, and the reader.
  stimulus: { irqs: { [RX_IRQ]: { rate: 20_000 } }, tasks: { reader: 1 } },
  invariants: {
    /** The tasklet runs at most once per interrupt (several coalesce into one run). */
    processed_le_seen: () => {
      WARN(
        READ_ONCE(stats, 'done') > READ_ONCE(stats, 'seen'),
        'processed_le_seen',
        'rx-counter: more packets processed than seen',
      );
    },
  },
  tasks: {
    /** The traffic: an interrupt on some CPU every 50 µs. */
    *traffic(): TaskBody<void> {
      for (let n = 0; ; n++) {
        raise_irq(n % nr_cpu_ids(), RX_IRQ);
        udelay(50);
        if (n % 100 === 99) yield;
      }
    },
    /** The stats reader (think ethtool -S): the bug is here. */
    *reader(): TaskBody<void> {
      for (let reads = 0; reads < 10; reads++) {
        let seen: number;
        let done: number;
        if (lockless_reader) {
          seen = stats.seen; // BUG (with lockless_reader=1): plain reads racing the locked writers
          done = stats.done;
        } else {
          const flags = spin_lock_irqsave(stats_lock); // the fix
          seen = stats.seen;
          done = stats.done;
          spin_unlock_irqrestore(stats_lock, flags);
        }
        if (seen % 1000 === 0 && seen > 0)
          pr_info(`rx-counter: CPU${smp_processor_id()}: ${seen} seen, ${done} processed`);
        yield;
      }
    },
  },
});
