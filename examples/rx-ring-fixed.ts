/**
 * examples/rx-ring.ts with the fix: remove() frees the interrupt first. free_irq waits until no
 * CPU runs the handler (synchronize_irq), and after it nothing can schedule the tasklet, so the
 * tasklet_kill that follows is final and the device's data can go. Runs clean:
 *
 *   npx tasklet-rt run examples/rx-ring-fixed.ts --cpus 2 --duration 60s
 *   npx tasklet-rt stress examples/rx-ring-fixed.ts --duration 60s
 *
 * probe() and remove() are the pair a driver's probe/remove callbacks are: the driver core
 * calls probe after init and remove before exit; the `cycle` task (for `run`) and the harness's
 * lifecycle (stress, fuzz) re-probe.
 */
import {
  atomic_inc,
  atomic_read,
  DECLARE_TASKLET,
  DEFINE_SHARED,
  DEFINE_STRUCT,
  defineModule,
  FIRST_DEVICE_IRQ,
  free_irq,
  from_tasklet,
  kfree,
  kzalloc,
  nr_cpu_ids,
  pr_err,
  pr_info,
  READ_ONCE,
  raise_irq,
  request_irq,
  type TaskBody,
  tasklet_kill,
  tasklet_schedule,
  udelay,
  WRITE_ONCE,
} from 'tasklet-rt';

const RX_IRQ = FIRST_DEVICE_IRQ + 1;

/** struct rx_ring_dev: what probe allocates for the device. */
const rx_ring_dev = DEFINE_STRUCT('rx_ring_dev', ['irqs', 'processed', 'budget']);
/** The driver's bound device (platform drvdata), 0 while none is. */
const driver = DEFINE_SHARED('rx_ring_driver', { dev: 0, probes: 0 });

/** The bottom half: processes the packets the interrupt announced. */
const rx_tasklet = DECLARE_TASKLET('rx_ring_tasklet', function rx_ring_process(t): void {
  const dev = rx_ring_dev.at(from_tasklet(t));
  udelay(10); // pulling the packets off the ring (DMA sync, copies)
  dev.processed = dev.processed + dev.budget; // only this tasklet writes it: it never runs twice at once
});

function rx_ring_interrupt(_irq: number, dev: unknown): void {
  atomic_inc(rx_ring_dev.at(dev as number), 'irqs'); // the cycle task polls it as handlers run
  tasklet_schedule(rx_tasklet);
}

function probe(): number {
  const dev = kzalloc(rx_ring_dev);
  if (dev === null) return -12; // -ENOMEM
  dev.budget = 16;
  rx_tasklet.container = dev.addr; // from_tasklet() finds the device
  WRITE_ONCE(driver, 'dev', dev.addr);
  // Counted once the line is requested: the device starts raising it at the first probe.
  const rc = request_irq(RX_IRQ, rx_ring_interrupt, 'rx-ring', dev.addr);
  if (rc === 0) atomic_inc(driver, 'probes');
  return rc;
}

/** Stops the receive engine: waits out the descriptors in flight (their completions still interrupt). */
function rx_ring_stop_dma(): void {
  udelay(20);
}

function remove(): void {
  const addr = READ_ONCE(driver, 'dev');
  if (addr === 0) return; // the probe failed: nothing is bound
  const dev = rx_ring_dev.at(addr);
  WRITE_ONCE(driver, 'dev', 0);
  free_irq(RX_IRQ); // the fix: no handler runs, nor can run, after this
  tasklet_kill(rx_tasklet); // so no one schedules the tasklet again
  rx_ring_stop_dma();
  kfree(dev);
}

export default defineModule({
  name: 'rx-ring-fixed',
  callbacks: [rx_ring_interrupt],
  // The driver core calls probe after init and remove before exit; stress and fuzz call them
  // again and again (stimulus.lifecycle), racing the device's interrupts.
  probe(): void {
    const rc = probe();
    if (rc !== 0) pr_err(`rx-ring: probe failed: ${rc}`);
  },
  remove,
  exit(): void {
    pr_info(`rx-ring: ${READ_ONCE(driver, 'probes')} probes`);
  },
  // What stress and fuzz drive: the device's interrupts (the line probe requests) and the
  // remove → probe cycles. The tasks below are for `run`: they do the same by hand.
  stimulus: { irqs: { [RX_IRQ]: { rate: 100_000 } }, lifecycle: true },
  tasks: {
    /** Unbind and bind the device again once it has seen some traffic (a module reload loop). */
    *cycle(): TaskBody<void> {
      for (;;) {
        const dev = rx_ring_dev.at(READ_ONCE(driver, 'dev'));
        while (atomic_read(dev, 'irqs') < 20) yield;
        remove();
        const rc = probe();
        if (rc !== 0) pr_err(`rx-ring: probe failed: ${rc}`);
      }
    },
    /**
     * The device: once first probed, an interrupt on some CPU every 5 µs, whether or not a driver
     * is bound at the moment (this driver's remove does not quiesce the hardware).
     */
    *traffic(): TaskBody<void> {
      while (READ_ONCE(driver, 'probes') === 0) yield;
      for (let n = 0; ; n++) {
        raise_irq(n % nr_cpu_ids(), RX_IRQ);
        udelay(5);
        if (n % 100 === 99) yield;
      }
    },
  },
});
