/**
 * Workload "cross-cpu": a ping-pong between two CPUs. A tasklet on CPU A stamps the time and
 * raises an interrupt on CPU B (raise_irq); B's handler schedules B's tasklet, which records
 * the raise → entry latency and pings A back the same way. Each hop is one cross-CPU dispatch.
 */
import {
  defineModule,
  FIRST_DEVICE_IRQ,
  raise_irq,
  smp_processor_id,
  type TaskBody,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_free,
  tasklet_kill,
  tasklet_schedule,
  tasklet_setup,
} from 'tasklet-rt';
import { absoluteMs } from '../../shm/clock.ts';
import { BenchChannel, COUNT_HOPS, channel } from './channel.ts';
import { LatencyRecorder } from './latency-recorder.ts';

export const PING_IRQ = FIRST_DEVICE_IRQ;

export interface CrossStart {
  peer: number;
  /** The CPU that serves first. */
  serve: boolean;
}

let running = false;
let peer = 0;
let hop: TaskletStruct | null = null;
let recorder = new LatencyRecorder();

function cross_hop(_t: TaskletStruct): void {
  const entry = absoluteMs();
  const { stamps, words } = channel();
  const me = smp_processor_id();
  const sent = stamps[BenchChannel.pingStamp(me)];
  if (sent > 0) {
    recorder.record(entry - sent);
    words[BenchChannel.counter(me, COUNT_HOPS)]++;
  }
  if (!running) return;
  stamps[BenchChannel.pingStamp(peer)] = absoluteMs();
  raise_irq(peer, PING_IRQ);
}

export default defineModule({
  name: 'bench-cross-cpu',
  callbacks: [cross_hop],
  irqs: {
    [PING_IRQ]: {
      name: 'bench-ping',
      handler: () => {
        if (hop !== null) tasklet_schedule(hop);
      },
    },
  },
  calls: {
    'cross.start': (arg) => {
      const start = arg as CrossStart;
      peer = start.peer;
      recorder = new LatencyRecorder();
      hop = tasklet_alloc('bench_cross_hop');
      tasklet_setup(hop, cross_hop);
      running = true;
      if (start.serve) tasklet_schedule(hop);
      return null;
    },
    /** Forgets what was recorded during the warm-up. */
    'cross.reset': () => {
      recorder = new LatencyRecorder();
      return null;
    },
    /** Stops the rally; returns this CPU's latencies (encoded histogram). */
    'cross.stop': () => {
      running = false;
      return recorder.encode();
    },
  },
  tasks: {
    *'cross.reap'(): TaskBody {
      if (hop !== null) {
        tasklet_kill(hop);
        tasklet_free(hop);
        hop = null;
      }
      return null;
    },
  },
});
