/**
 * Workload "local": K private tasklets per CPU, each re-scheduling itself from its own callback
 * (the way a polling driver keeps a tasklet going), so every run goes through the full path:
 * tasklet_schedule → queue → softirq pass → trylock/count/clear SCHED → callback → unlock.
 */
import {
  defineModule,
  smp_processor_id,
  type TaskBody,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_free,
  tasklet_hi_schedule,
  tasklet_kill,
  tasklet_schedule,
  tasklet_setup,
} from 'tasklet-rt';
import { BenchChannel, COUNT_RUNS, channel } from './channel.ts';

export interface LocalStart {
  tasklets: number;
  hi: boolean;
}

let running = false;
let schedule = tasklet_schedule;
let counters: Int32Array = new Int32Array(0);
let runsWord = 0;
const mine: TaskletStruct[] = [];

/** The user callback: count the run, keep going until told to stop. */
function local_tick(t: TaskletStruct): void {
  counters[runsWord]++;
  if (running) schedule(t);
}

export default defineModule({
  name: 'bench-local',
  callbacks: [local_tick],
  calls: {
    /** Hard-irq context: the tasklets start running on this CPU's way out of the interrupt. */
    'local.start': (arg) => {
      const { tasklets, hi } = arg as LocalStart;
      counters = channel().words;
      runsWord = BenchChannel.counter(smp_processor_id(), COUNT_RUNS);
      schedule = hi ? tasklet_hi_schedule : tasklet_schedule;
      running = true;
      for (let i = 0; i < tasklets; i++) {
        const t = tasklet_alloc('bench_local');
        tasklet_setup(t, local_tick);
        mine.push(t);
      }
      for (const t of mine) schedule(t);
      return null;
    },
    'local.stop': () => {
      running = false;
      return null;
    },
  },
  tasks: {
    /** Process context: wait for the last runs, give the slots back. */
    *'local.reap'(): TaskBody {
      for (const t of mine.splice(0)) {
        tasklet_kill(t);
        tasklet_free(t);
      }
      return null;
    },
  },
});
