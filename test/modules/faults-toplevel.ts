/** Faults test module: throws while it is being loaded (a boot failure, not an oops). */
import { defineModule } from '../../kernel/index.ts';

throw new Error('faults-toplevel: cannot find my device');

export default defineModule({ name: 'faults-toplevel' });
