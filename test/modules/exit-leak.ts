/**
 * Test module for the lifetime checks after module exit (kernel/kasan.ts, kasan.module_exit=1).
 * exit-leak.bug is a mask of what its exit forgets; 0 is the correct exit path.
 * - 1: its tasklet (run once at init) is left scheduled: the exit queues it disabled, so it
 *   cannot run before the exit returns whatever the CPUs do, and never kills it.
 * - 2: its poll timer (armed at init, re-armed by its own callback every jiffy) is never deleted.
 * - 4: its poll work item (queued at init, queued again by its own function) is never cancelled.
 * A self-re-arming timer or work item is always pending or running, so what the exit leaves
 * behind does not depend on timing.
 */
import {
  cancel_work_sync,
  DECLARE_TASKLET,
  DECLARE_WORK,
  DEFINE_TIMER,
  defineModule,
  del_timer_sync,
  jiffies,
  mod_timer,
  module_param,
  queue_work,
  system_bh_wq,
  tasklet_disable,
  tasklet_kill,
  tasklet_schedule,
  timer_pending,
  work_pending,
  work_running,
} from 'tasklet-rt';

const bug = module_param('exit-leak', 'bug', 0);

const leak = DECLARE_TASKLET('exit_leak_tasklet', function exit_leak_work(): void {});

const poll = DEFINE_TIMER('exit_leak_poll', function exit_leak_poll_timer(): void {
  mod_timer(poll, jiffies() + 1);
});

const work = DECLARE_WORK('exit_leak_work_item', function exit_leak_poll_work(): void {
  queue_work(system_bh_wq, work);
});

export default defineModule({
  name: 'exit-leak',
  init(): void {
    tasklet_schedule(leak);
    mod_timer(poll, jiffies() + 1);
    queue_work(system_bh_wq, work);
  },
  calls: {
    /** Whether init has armed both polls (a test waits for it before unloading). */
    armed: () => timer_pending(poll) && (work_pending(work) || work_running(work)),
  },
  exit(): void {
    if ((bug & 1) === 0) tasklet_kill(leak);
    else {
      tasklet_disable(leak);
      tasklet_schedule(leak); // BUG: queued as the module goes away, and nothing kills it
    }
    if ((bug & 2) === 0) del_timer_sync(poll);
    if ((bug & 4) === 0) cancel_work_sync(work);
  },
});
