/** Faults test module: a call that ends its CPU's worker thread (process.exit) mid-run. */
import { defineModule } from '../../kernel/index.ts';

export default defineModule({
  name: 'faults-exit-call',
  calls: {
    exit() {
      process.exit(7);
    },
  },
});
