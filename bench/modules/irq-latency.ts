/**
 * Workload "latency": the controller stamps the time and raises an interrupt on a CPU
 * (machine.raiseIrq); the handler schedules a tasklet whose first act is to stamp its entry.
 */
import {
  defineModule,
  FIRST_DEVICE_IRQ,
  type TaskBody,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_free,
  tasklet_kill,
  tasklet_schedule,
  tasklet_setup,
} from 'tasklet-rt';
import { absoluteMs } from '../../shm/clock.ts';
import { channel, STAMP_ENTRY, WORD_ENTRY_SEQ } from './channel.ts';

export const PROBE_IRQ = FIRST_DEVICE_IRQ + 1;

let probe: TaskletStruct | null = null;

function latency_entry(_t: TaskletStruct): void {
  const entry = absoluteMs();
  const { stamps, words } = channel();
  stamps[STAMP_ENTRY] = entry;
  Atomics.add(words, WORD_ENTRY_SEQ, 1); // publishes the stamp to the controller
}

export default defineModule({
  name: 'bench-irq-latency',
  callbacks: [latency_entry],
  irqs: {
    [PROBE_IRQ]: {
      name: 'bench-probe',
      handler: () => {
        if (probe !== null) tasklet_schedule(probe);
      },
    },
  },
  calls: {
    'latency.init': () => {
      probe = tasklet_alloc('bench_latency');
      tasklet_setup(probe, latency_entry);
      return null;
    },
  },
  tasks: {
    *'latency.reap'(): TaskBody {
      if (probe !== null) {
        tasklet_kill(probe);
        tasklet_free(probe);
        probe = null;
      }
      return null;
    },
  },
});
