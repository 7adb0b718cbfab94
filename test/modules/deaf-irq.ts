/**
 * Test module for the spurious-interrupt detector (kernel/irq.ts note_interrupt): `storm` raises
 * line 4, whose handler answers IRQ_NONE (not its device), deaf-irq.raises times (default
 * 100 000: "nobody cared") on its own CPU, then line 6, which nobody requested, once.
 */
import {
  cpu_relax,
  defineModule,
  FIRST_DEVICE_IRQ,
  irqreturn,
  module_param,
  raise_irq,
  smp_processor_id,
  type TaskBody,
} from 'tasklet-rt';

const DEAF = FIRST_DEVICE_IRQ + 2;
const NOBODY = FIRST_DEVICE_IRQ + 4;
const raises = module_param('deaf-irq', 'raises', 100_000);

export default defineModule({
  name: 'deaf-irq',
  irqs: { [DEAF]: { name: 'deaf', handler: () => irqreturn.IRQ_NONE } },
  tasks: {
    *storm(): TaskBody<void> {
      const cpu = smp_processor_id();
      for (let n = 0; n < raises; n++) {
        raise_irq(cpu, DEAF);
        cpu_relax(); // an interrupt point: taken here, one by one
        if (n % 1000 === 999) yield;
      }
      raise_irq(cpu, NOBODY);
      cpu_relax();
    },
  },
});
