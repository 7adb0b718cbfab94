/**
 * Test module for the handler check of kernel/irq.ts: line 3's handler turns interrupts on
 * (a driver bug: another interrupt could nest in it); `twice` raises it twice on its own CPU.
 */
import {
  cpu_relax,
  defineModule,
  FIRST_DEVICE_IRQ,
  irqs_disabled,
  local_irq_enable,
  raise_irq,
  smp_processor_id,
  type TaskBody,
} from 'tasklet-rt';

const LINE = FIRST_DEVICE_IRQ + 1;

export default defineModule({
  name: 'irq-enabler',
  irqs: {
    [LINE]: {
      name: 'enabler',
      handler: function enabler_interrupt() {
        local_irq_enable();
      },
    },
  },
  tasks: {
    *twice(): TaskBody<boolean> {
      const cpu = smp_processor_id();
      for (let n = 0; n < 2; n++) {
        raise_irq(cpu, LINE);
        cpu_relax(); // an interrupt point: taken here
      }
      return irqs_disabled();
    },
  },
});
