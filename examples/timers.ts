// Kernel timers to look at in /proc/timer_list: a heartbeat per CPU that re-arms itself every
// second, and a one-shot watchdog a minute ahead.
//   tasklet-rt cat /proc/timer_list --module examples/timers.ts
import {
  add_timer_on,
  defineModule,
  from_timer,
  HZ,
  jiffies,
  mod_timer,
  nr_cpu_ids,
  type TimerList,
  timer_alloc,
  timer_setup,
} from 'tasklet-rt';

function heartbeat_fn(t: TimerList): void {
  mod_timer(t, jiffies() + HZ()); // stays on the CPU it runs on
}

function watchdog_fn(t: TimerList): void {
  void from_timer(t);
}

export default defineModule({
  name: 'timers',
  callbacks: [heartbeat_fn, watchdog_fn],
  init() {
    for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) {
      const t = timer_alloc(`heartbeat${cpu}`, cpu);
      timer_setup(t, heartbeat_fn);
      add_timer_on(t, cpu, jiffies() + HZ());
    }
    const watchdog = timer_alloc('watchdog');
    timer_setup(watchdog, watchdog_fn);
    mod_timer(watchdog, jiffies() + 60 * HZ());
  },
});
