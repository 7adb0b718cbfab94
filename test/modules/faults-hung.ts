/**
 * Faults test module: module_init kills a disabled, scheduled tasklet. SCHED never clears, so
 * tasklet_kill never returns (see tasklet_kill in docs/semantics.md) and insmod hangs.
 */
import {
  DECLARE_TASKLET_DISABLED,
  defineModule,
  pr_info,
  tasklet_kill,
  tasklet_schedule,
} from '../../kernel/index.ts';

function faults_hung_fn(): void {}

const faults_hung = DECLARE_TASKLET_DISABLED('faults_hung', faults_hung_fn);

export default defineModule({
  name: 'faults-hung',
  init() {
    tasklet_schedule(faults_hung);
    pr_info('faults: killing a disabled, scheduled tasklet');
    tasklet_kill(faults_hung);
  },
});
