/** Faults test module: module code that calls process.exit (it ends the CPU's worker thread). */
import { defineModule, pr_info } from '../../kernel/index.ts';

export default defineModule({
  name: 'faults-exit',
  init() {
    pr_info('faults: calling process.exit(7)');
    process.exit(7);
  },
});
