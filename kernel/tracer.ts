/** The CPU side of tracing: tracepoint sinks that append to this CPU's ring. */

import { machineMs } from '../shm/clock.ts';
import { layout, plain_read } from '../shm/door.ts';
import { T_FUNC } from '../shm/layout.ts';
import {
  TraceEventType as E,
  FLAG_IRQS_OFF,
  FLAG_NEED_RESCHED,
  type TraceBufferParams,
  traceRingWriter,
} from '../shm/trace-ring.ts';
import { this_cpu } from './percpu.ts';
import { current } from './sched.ts';
import { attach_tracepoint } from './trace.ts';

/** Starts recording every tracepoint of this CPU into its ring. */
export function start_tracing(sab: SharedArrayBuffer, params: TraceBufferParams): void {
  const write = traceRingWriter(sab, params, this_cpu.id);
  const emit = (type: E, a: number, b: number, func = -1): void => {
    const flags = (this_cpu.irqsOff ? FLAG_IRQS_OFF : 0) | (this_cpu.needResched ? FLAG_NEED_RESCHED : 0);
    write(machineMs(), type, a, b, current().pid, this_cpu.preempt, flags, func);
  };
  // A tasklet event records the tasklet's function as it is now: a later tasklet_setup or a
  // reused slot must not rename what happened before.
  const tasklet = (type: E, t: number, b = 0): void =>
    emit(type, t, b, plain_read(layout().tasklet(t) + T_FUNC));
  attach_tracepoint('softirq_raise', (vec) => emit(E.softirq_raise, vec, 0));
  attach_tracepoint('softirq_entry', (vec) => emit(E.softirq_entry, vec, 0));
  attach_tracepoint('softirq_exit', (vec) => emit(E.softirq_exit, vec, 0));
  attach_tracepoint('irq_handler_entry', (irq) => emit(E.irq_handler_entry, irq, 0));
  attach_tracepoint('irq_handler_exit', (irq, ret) => emit(E.irq_handler_exit, irq, ret));
  // tasklet_entry keeps the function in b too (the trace window and Perfetto read it there).
  attach_tracepoint('tasklet_entry', (t) =>
    tasklet(E.tasklet_entry, t, plain_read(layout().tasklet(t) + T_FUNC)),
  );
  attach_tracepoint('tasklet_exit', (t) => tasklet(E.tasklet_exit, t));
  attach_tracepoint('tasklet_schedule', (t, hi, effective) =>
    tasklet(E.tasklet_schedule, t, (hi ? 1 : 0) | (effective ? 2 : 0)),
  );
  attach_tracepoint('tasklet_requeue', (t, hi) => tasklet(E.tasklet_requeue, t, hi ? 1 : 0));
  attach_tracepoint('tasklet_takeover', (from) => emit(E.tasklet_takeover, from, 0));
  attach_tracepoint('tasklet_disable', (t) => tasklet(E.tasklet_disable, t));
  attach_tracepoint('tasklet_enable', (t) => tasklet(E.tasklet_enable, t));
  attach_tracepoint('tasklet_kill', (t) => tasklet(E.tasklet_kill, t));
  attach_tracepoint('cpu_hotplug', (c, online) => emit(E.cpu_hotplug, c, online ? 1 : 0));
  // a: timer id, with the base CPU above bit 16 for timer_start; b: expires / now (low 32 bits).
  attach_tracepoint('timer_start', (t, expires, cpu) =>
    emit(E.timer_start, t | (cpu << 16), (expires % 2 ** 32) | 0),
  );
  attach_tracepoint('timer_expire_entry', (t, now) => emit(E.timer_expire_entry, t, (now % 2 ** 32) | 0));
  attach_tracepoint('timer_expire_exit', (t) => emit(E.timer_expire_exit, t, 0));
  attach_tracepoint('timer_cancel', (t) => emit(E.timer_cancel, t, 0));
  attach_tracepoint('workqueue_queue_work', (w, hi, cpu) =>
    emit(E.workqueue_queue_work, w, cpu * 2 + (hi ? 1 : 0)),
  );
  attach_tracepoint('workqueue_execute_start', (w) => emit(E.workqueue_execute_start, w, 0));
  attach_tracepoint('workqueue_execute_end', (w) => emit(E.workqueue_execute_end, w, 0));
}
