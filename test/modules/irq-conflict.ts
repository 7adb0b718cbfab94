/** Test module: asks for a line the fidelity module already holds; its request_irq fails (-EBUSY). */
import { defineModule } from 'tasklet-rt';
import { NEST_IRQ_A } from './fidelity-layout.ts';

export default defineModule({
  name: 'irq-conflict',
  irqs: { [NEST_IRQ_A]: { name: 'conflict', handler: () => {} } },
});
