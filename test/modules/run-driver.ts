/**
 * Test driver for `tasklet-rt run`: a task that schedules the driver's tasklet now and then and,
 * on its fifth round, WARNs once (a module's own invariant failing).
 */
import {
  DECLARE_TASKLET,
  defineModule,
  mdelay,
  pr_info,
  smp_processor_id,
  type TaskBody,
  tasklet_schedule,
  WARN,
} from 'tasklet-rt';

const rx_tasklet = DECLARE_TASKLET('rx_tasklet', () => {});

export default defineModule({
  name: 'run-driver',
  tasks: {
    *poller(): TaskBody<void> {
      pr_info(`poller started on CPU${smp_processor_id()}`);
      for (let round = 1; ; round++) {
        tasklet_schedule(rx_tasklet);
        WARN(round === 5, 'poller', 'run-driver: round 5 went wrong');
        mdelay(1);
        yield;
      }
    },
  },
});
