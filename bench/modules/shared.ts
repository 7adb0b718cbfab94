/**
 * Workload "shared": T tasklets shared by every CPU. Each CPU runs a private driver tasklet that
 * schedules all T and then itself, so a shared tasklet is queued on whichever CPU sets SCHED
 * first, and a CPU that dequeues it while it runs elsewhere finds RUN taken and requeues it.
 */
import {
  defineModule,
  smp_processor_id,
  type TaskBody,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_free,
  tasklet_from_id,
  tasklet_hi_schedule,
  tasklet_kill,
  tasklet_schedule,
  tasklet_setup,
} from 'tasklet-rt';
import { BenchChannel, COUNT_RUNS, channel } from './channel.ts';

export interface SharedStart {
  /** Table ids of the shared tasklets (from `shared.alloc`). */
  ids: number[];
  hi: boolean;
}

let running = false;
let schedule = tasklet_schedule;
let counters: Int32Array = new Int32Array(0);
let runsWord = 0;
let sharedTasklets: TaskletStruct[] = [];
let driver: TaskletStruct | null = null;

/** The measured callback: count the run (the driver schedules it again). */
function shared_tick(_t: TaskletStruct): void {
  counters[runsWord]++;
}

function shared_driver(t: TaskletStruct): void {
  if (!running) return;
  for (const s of sharedTasklets) schedule(s);
  schedule(t);
}

export default defineModule({
  name: 'bench-shared',
  callbacks: [shared_tick, shared_driver],
  calls: {
    /** Allocates the shared tasklets (on one CPU); returns their ids. */
    'shared.alloc': (count) =>
      Array.from({ length: count as number }, () => {
        const t = tasklet_alloc('bench_shared');
        tasklet_setup(t, shared_tick);
        return t.id;
      }),
    'shared.start': (arg) => {
      const { ids, hi } = arg as SharedStart;
      counters = channel().words;
      runsWord = BenchChannel.counter(smp_processor_id(), COUNT_RUNS);
      schedule = hi ? tasklet_hi_schedule : tasklet_schedule;
      sharedTasklets = ids.map(tasklet_from_id);
      running = true;
      driver = tasklet_alloc('bench_shared_driver');
      tasklet_setup(driver, shared_driver);
      schedule(driver);
      return null;
    },
    'shared.stop': () => {
      running = false;
      return null;
    },
  },
  tasks: {
    /** Stops this CPU's driver; `free` also kills and frees the shared tasklets (run it last). */
    *'shared.reap'(free): TaskBody {
      if (driver !== null) {
        tasklet_kill(driver);
        tasklet_free(driver);
        driver = null;
      }
      if (free === true) {
        for (const t of sharedTasklets) {
          tasklet_kill(t);
          tasklet_free(t);
        }
      }
      sharedTasklets = [];
      return null;
    },
  },
});
