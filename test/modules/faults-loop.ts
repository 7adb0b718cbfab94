/** Faults test module: a tasklet callback that never returns (a soft lockup of its CPU). */
import {
  DECLARE_TASKLET,
  defineModule,
  pr_info,
  smp_processor_id,
  tasklet_schedule,
} from '../../kernel/index.ts';

function faults_loop_fn(): void {
  pr_info(`faults: looping forever on CPU${smp_processor_id()}`);
  for (;;) {
    // the bug under test: no way out, no interrupt point
  }
}

const faults_loop = DECLARE_TASKLET('faults_loop', faults_loop_fn);

export default defineModule({
  name: 'faults-loop',
  init() {
    tasklet_schedule(faults_loop);
  },
});
