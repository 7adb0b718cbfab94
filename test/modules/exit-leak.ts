/**
 * Test module for the lifetime check after module exit (kernel/kasan.ts, kasan.module_exit=1).
 * Its tasklet runs once at init. With exit-leak.bug=1 its exit leaves it scheduled: a late event
 * queues it (disabled, so it cannot run before the exit returns, whatever the CPUs do) and the
 * exit returns without tasklet_kill. With 0 the exit kills it, as a correct exit path does.
 */
import {
  DECLARE_TASKLET,
  defineModule,
  module_param,
  tasklet_disable,
  tasklet_kill,
  tasklet_schedule,
} from 'tasklet-rt';

const bug = module_param('exit-leak', 'bug', 0) !== 0;

const leak = DECLARE_TASKLET('exit_leak_tasklet', function exit_leak_work(): void {});

export default defineModule({
  name: 'exit-leak',
  init(): void {
    tasklet_schedule(leak);
  },
  exit(): void {
    if (!bug) {
      tasklet_kill(leak);
      return;
    }
    tasklet_disable(leak);
    tasklet_schedule(leak); // BUG: queued as the module goes away, and nothing kills it
  },
});
