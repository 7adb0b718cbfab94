/**
 * A small "NIC" driver with the classic locking bug: the receive statistics are updated by the
 * interrupt handler, by the rx tasklet and by a process-context reader, and the reader takes
 * the lock with plain spin_lock. An interrupt that arrives on the reader's CPU while it holds
 * the lock spins on it forever. lockdep sees it without the deadlock having to happen:
 *
 *   npx tasklet-rt run examples/rx-counter.ts --cpus 2 --duration 1s
 *
 * reports "inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W} usage" (exit 1). The fix, in
 * examples/rx-counter-fixed.ts, takes the lock with spin_lock_irqsave in the reader.
 */
import {
  DECLARE_TASKLET,
  DEFINE_SHARED,
  DEFINE_SPINLOCK,
  defineModule,
  FIRST_DEVICE_IRQ,
  nr_cpu_ids,
  pr_info,
  READ_ONCE,
  raise_irq,
  smp_processor_id,
  spin_lock,
  spin_unlock,
  type TaskBody,
  tasklet_schedule,
  udelay,
  WARN,
} from 'tasklet-rt';

const RX_IRQ = FIRST_DEVICE_IRQ;
const stats = DEFINE_SHARED('rx-stats', { seen: 0, done: 0 }); // packets seen by the irq, processed
const stats_lock = DEFINE_SPINLOCK('rx_stats_lock');

const rx_tasklet = DECLARE_TASKLET('rx_tasklet', function rx_process(): void {
  spin_lock(stats_lock); // BUG too: softirq context with hard irqs on, and the irq handler...
  stats.done++; // plain accesses: the lock orders them
  spin_unlock(stats_lock);
});

function rx_interrupt(): void {
  spin_lock(stats_lock); // ...takes the same lock in hard-irq context
  stats.seen++;
  spin_unlock(stats_lock);
  tasklet_schedule(rx_tasklet);
}

export default defineModule({
  name: 'rx-counter',
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
    /** The stats reader (think ethtool -S): a few reads, then it ends. The bug is here. */
    *reader(): TaskBody<void> {
      for (let reads = 0; reads < 10; reads++) {
        spin_lock(stats_lock); // BUG: hard irqs stay on while the lock is held
        const seen = stats.seen;
        const done = stats.done;
        spin_unlock(stats_lock);
        if (seen % 1000 === 0 && seen > 0)
          pr_info(`rx-counter: CPU${smp_processor_id()}: ${seen} seen, ${done} processed`);
        yield;
      }
    },
  },
});
