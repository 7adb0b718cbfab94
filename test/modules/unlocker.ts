/**
 * Test driver for stress of a module: an irq handler schedules a tasklet whose callback, with
 * unlocker.bug=1 (the default), releases the tasklet's RUN bit itself (tasklet_unlock, as if it
 * were its own lock) before it finishes: another CPU can then run the same callback at once,
 * which the harness's G1 oracle sees. unlocker.bug=0 is the clean twin.
 */
import {
  DECLARE_TASKLET,
  defineModule,
  FIRST_DEVICE_IRQ,
  module_param,
  type TaskletStruct,
  tasklet_schedule,
  tasklet_unlock,
  udelay,
} from 'tasklet-rt';

const LINE = FIRST_DEVICE_IRQ;
const bug = module_param('unlocker', 'bug', 1) !== 0;

const work = DECLARE_TASKLET('unlocker_tasklet', function unlocker_work(t: TaskletStruct): void {
  if (bug) tasklet_unlock(t); // BUG: RUN is the tasklet's, not the callback's, to release
  udelay(20);
});

export default defineModule({
  name: 'unlocker',
  irqs: { [LINE]: { name: 'unlocker', handler: () => tasklet_schedule(work) } },
  stimulus: { irqs: { [LINE]: { rate: 50_000 } } },
});
