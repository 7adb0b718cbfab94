/**
 * Per-CPU trace rings in their own SharedArrayBuffer (allocated only when tracing is on).
 * Each CPU writes only its ring, overwriting the oldest events (ftrace's overwrite mode), and
 * publishes its head after each event; times come from the shared machine clock.
 *
 * Buffer: Float64 times [cpu][slot], then Int32 heads [cpu], then Int32 events [cpu][slot][EVENT_WORDS].
 */
export enum TraceEventType {
  softirq_raise = 1,
  softirq_entry,
  softirq_exit,
  irq_handler_entry,
  irq_handler_exit,
  tasklet_entry,
  tasklet_exit,
  tasklet_schedule,
  tasklet_requeue,
  tasklet_takeover,
  tasklet_disable,
  tasklet_enable,
  tasklet_kill,
  cpu_hotplug,
  timer_start,
  timer_expire_entry,
  timer_expire_exit,
  timer_cancel,
  workqueue_queue_work,
  workqueue_execute_start,
  workqueue_execute_end,
}

/** type, a, b, pid, preempt_count, flags, func (a tasklet event's function id then; -1 otherwise) */
export const EVENT_WORDS = 7;
export const FLAG_IRQS_OFF = 1;
export const FLAG_NEED_RESCHED = 2;

export interface TraceBufferParams {
  nrCpus: number;
  /** Events kept per CPU. */
  capacity: number;
}

export interface TraceRing {
  times: Float64Array;
  heads: Int32Array;
  events: Int32Array;
}

export function traceBufferBytes({ nrCpus, capacity }: TraceBufferParams): number {
  return nrCpus * capacity * 8 + nrCpus * 4 + nrCpus * capacity * EVENT_WORDS * 4;
}

export function viewTraceBuffer(sab: SharedArrayBuffer, { nrCpus, capacity }: TraceBufferParams): TraceRing {
  const timesBytes = nrCpus * capacity * 8;
  return {
    times: new Float64Array(sab, 0, nrCpus * capacity),
    heads: new Int32Array(sab, timesBytes, nrCpus),
    events: new Int32Array(sab, timesBytes + nrCpus * 4, nrCpus * capacity * EVENT_WORDS),
  };
}

export interface TraceRecord {
  cpu: number;
  /** Milliseconds since boot. */
  time: number;
  type: TraceEventType;
  a: number;
  b: number;
  pid: number;
  preempt: number;
  flags: number;
  /** A tasklet event's function id at the time of the event; -1 for other events. */
  func: number;
}

/** Events each CPU has written since boot: its head (the ring keeps the last `capacity`). */
export function eventsWritten(ring: TraceRing, params: TraceBufferParams): number[] {
  return Array.from({ length: params.nrCpus }, (_, cpu) => Atomics.load(ring.heads, cpu));
}

/** Every event still in the rings, oldest first across CPUs. Read it when the machine is quiet. */
export function readTrace(ring: TraceRing, params: TraceBufferParams): TraceRecord[] {
  const records: TraceRecord[] = [];
  for (let cpu = 0; cpu < params.nrCpus; cpu++) {
    const head = Atomics.load(ring.heads, cpu);
    for (let n = Math.max(0, head - params.capacity); n < head; n++) {
      const slot = cpu * params.capacity + (n % params.capacity);
      const e = slot * EVENT_WORDS;
      records.push({
        cpu,
        time: ring.times[slot],
        type: ring.events[e],
        a: ring.events[e + 1],
        b: ring.events[e + 2],
        pid: ring.events[e + 3],
        preempt: ring.events[e + 4],
        flags: ring.events[e + 5],
        func: ring.events[e + 6],
      });
    }
  }
  return records.sort((x, y) => x.time - y.time);
}

export type TraceEmit = (
  time: number,
  type: TraceEventType,
  a: number,
  b: number,
  pid: number,
  preempt: number,
  flags: number,
  func: number,
) => void;

/** The writer of `cpu`'s ring: only that CPU calls it; the head is published after each event. */
export function traceRingWriter(sab: SharedArrayBuffer, params: TraceBufferParams, cpu: number): TraceEmit {
  const { times, heads, events } = viewTraceBuffer(sab, params);
  const first = cpu * params.capacity;
  let head = Atomics.load(heads, cpu);
  return (time, type, a, b, pid, preempt, flags, func) => {
    const slot = first + (head % params.capacity);
    const e = slot * EVENT_WORDS;
    times[slot] = time;
    events[e] = type;
    events[e + 1] = a;
    events[e + 2] = b;
    events[e + 3] = pid;
    events[e + 4] = preempt;
    events[e + 5] = flags;
    events[e + 6] = func;
    Atomics.store(heads, cpu, ++head);
  };
}
