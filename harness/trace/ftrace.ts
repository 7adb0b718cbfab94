/**
 * Trace records as the kernel's trace file / `trace-cmd report` prints them, so that people who
 * read ftrace read this at once:
 *           <idle>-0       [001] ..s1.     0.011428: tasklet_entry: tasklet=probe3 function=probe_callback
 */
import { HARDIRQ_MASK, SOFTIRQ_MASK, SOFTIRQ_OFFSET } from '../../kernel/preempt.ts';
import {
  TraceEventType as E,
  FLAG_IRQS_OFF,
  FLAG_NEED_RESCHED,
  type TraceRecord,
} from '../../shm/trace-ring.ts';
import type { TraceNames } from './names.ts';

/** The five latency-format columns: irqs-off/BH, need-resched, hardirq/softirq, preempt depth, migrate. */
export function ftraceFlags(r: TraceRecord): string {
  const irqsOff = (r.flags & FLAG_IRQS_OFF) !== 0;
  // The kernel's bh_off is softirq_count() >> (SOFTIRQ_SHIFT + 1): any bh-disable depth, nested too.
  const bhOff = (r.preempt & SOFTIRQ_MASK & ~SOFTIRQ_OFFSET) !== 0;
  const irq = irqsOff && bhOff ? 'D' : irqsOff ? 'd' : bhOff ? 'b' : '.';
  const resched = (r.flags & FLAG_NEED_RESCHED) !== 0 ? 'N' : '.';
  const hard = (r.preempt & HARDIRQ_MASK) !== 0;
  const soft = (r.preempt & SOFTIRQ_OFFSET) !== 0;
  const context = hard && soft ? 'H' : hard ? 'h' : soft ? 's' : '.';
  const depth = r.preempt & 0xff;
  return `${irq}${resched}${context}${depth === 0 ? '.' : Math.min(depth, 15).toString(16)}.`;
}

export function ftraceFields(r: TraceRecord, names: TraceNames): { event: string; fields: string } {
  const tasklet = (): string => `tasklet=${names.tasklet(r.a, r.func)}`;
  switch (r.type) {
    case E.softirq_raise:
    case E.softirq_entry:
    case E.softirq_exit:
      return { event: E[r.type], fields: `vec=${r.a} [action=${names.softirq(r.a)}]` };
    case E.irq_handler_entry:
      return { event: 'irq_handler_entry', fields: `irq=${r.a} name=${names.irq(r.a)}` };
    case E.irq_handler_exit:
      return { event: 'irq_handler_exit', fields: `irq=${r.a} ret=${r.b === 0 ? 'unhandled' : 'handled'}` };
    case E.tasklet_entry:
      return {
        event: 'tasklet_entry',
        fields: `tasklet=${names.tasklet(r.a, r.func)} function=${names.func(r.func)}`,
      };
    case E.tasklet_exit:
      return { event: 'tasklet_exit', fields: `${tasklet()} function=${names.func(r.func)}` };
    case E.tasklet_schedule:
      return {
        event: 'tasklet_schedule',
        fields: `${tasklet()} hi=${r.b & 1} ${r.b & 2 ? 'queued' : 'coalesced'}`,
      };
    case E.tasklet_requeue:
      return { event: 'tasklet_requeue', fields: `${tasklet()} hi=${r.b & 1}` };
    case E.tasklet_takeover:
      return { event: 'tasklet_takeover', fields: `dead_cpu=${r.a}` };
    case E.tasklet_disable:
    case E.tasklet_enable:
    case E.tasklet_kill:
      return { event: E[r.type], fields: tasklet() };
    case E.cpu_hotplug:
      return { event: 'cpu_hotplug', fields: `cpu=${r.a} state=${r.b ? 'online' : 'offline'}` };
    case E.timer_start:
    case E.timer_expire_entry:
    case E.timer_expire_exit:
    case E.timer_cancel:
      return timerFields(r, names);
    case E.workqueue_queue_work:
      return {
        event: 'workqueue_queue_work',
        fields: `work struct=${names.work(r.a)} function=${names.func(names.workFunc(r.a))} workqueue=${r.b & 1 ? 'events_bh_highpri' : 'events_bh'} req_cpu=${r.b >> 1} cpu=${r.b >> 1}`,
      };
    case E.workqueue_execute_start:
    case E.workqueue_execute_end:
      return {
        event: E[r.type],
        fields: `work struct ${names.work(r.a)}: function ${names.func(names.workFunc(r.a))}`,
      };
    default:
      return { event: `unknown_${r.type}`, fields: `a=${r.a} b=${r.b}` };
  }
}

/** include/trace/events/timer.h formats; the timer is named, not a hashed pointer. */
function timerFields(r: TraceRecord, names: TraceNames): { event: string; fields: string } {
  const id = r.a & 0xffff;
  const timer = `timer=${names.timer(id)}`;
  switch (r.type) {
    case E.timer_start: {
      const expires = r.b >>> 0;
      const timeout = (expires - names.jiffiesAt(r.time)) | 0;
      return {
        event: 'timer_start',
        fields: `${timer} function=${names.func(names.timerFunc(id))} expires=${expires} [timeout=${timeout}] cpu=${r.a >>> 16} idx=0 flags=`,
      };
    }
    case E.timer_expire_entry:
      return {
        event: 'timer_expire_entry',
        fields: `${timer} function=${names.func(names.timerFunc(id))} now=${r.b >>> 0} baseclk=${r.b >>> 0}`,
      };
    default:
      return { event: E[r.type], fields: timer };
  }
}

export function ftraceLine(r: TraceRecord, names: TraceNames): string {
  const { event, fields } = ftraceFields(r, names);
  const seconds = (r.time / 1000).toFixed(6).padStart(12);
  // The kernel's "%16s-%-7d [%03d]": comm, pid left-aligned in 7, a space, the CPU.
  const task = `${names.comm(r.pid).padStart(16)}-${String(r.pid).padEnd(7)} `;
  return `${task}[${String(r.cpu).padStart(3, '0')}] ${ftraceFlags(r)} ${seconds}: ${event}: ${fields}`;
}

/**
 * The trace file: the kernel's header, then the events. `written` (per CPU, events recorded
 * including those the rings overwrote) makes the header's entries-written honest; when a ring
 * overwrote, each CPU's first line is marked "##### CPU n buffer started ####" as the kernel
 * marks it, because the CPUs' kept events begin at different times.
 */
export function ftraceText(
  records: TraceRecord[],
  names: TraceNames,
  nrCpus: number,
  written: readonly number[] = [],
): string {
  const total = Math.max(
    records.length,
    written.reduce((sum, n) => sum + n, 0),
  );
  const header = [
    '# tracer: nop',
    '#',
    `# entries-in-buffer/entries-written: ${records.length}/${total}   #P:${nrCpus}`,
    '#',
    '#                                _-----=> irqs-off/BH-disabled',
    '#                               / _----=> need-resched',
    '#                              | / _---=> hardirq/softirq',
    '#                              || / _--=> preempt-depth',
    '#                              ||| / _-=> migrate-disable',
    '#                              |||| /     delay',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '#              | |         |   |||||     |         |',
  ];
  const lines = [...header];
  const started = new Set<number>();
  const overwrote = total > records.length;
  for (const r of records) {
    if (overwrote && !started.has(r.cpu)) {
      if (started.size > 0) lines.push(`##### CPU ${r.cpu} buffer started ####`);
      started.add(r.cpu);
    }
    lines.push(ftraceLine(r, names));
  }
  return `${lines.join('\n')}\n`;
}
