/**
 * Trace records as the kernel's trace file / `trace-cmd report` prints them, so that people who
 * read ftrace read this at once:
 *           <idle>-0       [001] ..s1.     0.011428: tasklet_entry: tasklet=probe3 function=probe_callback
 */
import { HARDIRQ_MASK, SOFTIRQ_DISABLE_OFFSET, SOFTIRQ_OFFSET } from '../../kernel/preempt.ts';
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
  const bhOff = (r.preempt & SOFTIRQ_DISABLE_OFFSET) !== 0;
  const irq = irqsOff && bhOff ? 'D' : irqsOff ? 'd' : bhOff ? 'b' : '.';
  const resched = (r.flags & FLAG_NEED_RESCHED) !== 0 ? 'N' : '.';
  const hard = (r.preempt & HARDIRQ_MASK) !== 0;
  const soft = (r.preempt & SOFTIRQ_OFFSET) !== 0;
  const context = hard && soft ? 'H' : hard ? 'h' : soft ? 's' : '.';
  const depth = r.preempt & 0xff;
  return `${irq}${resched}${context}${depth === 0 ? '.' : Math.min(depth, 15).toString(16)}.`;
}

export function ftraceFields(r: TraceRecord, names: TraceNames): { event: string; fields: string } {
  const tasklet = (): string => `tasklet=${names.tasklet(r.a)}`;
  switch (r.type) {
    case E.softirq_raise:
    case E.softirq_entry:
    case E.softirq_exit:
      return { event: E[r.type], fields: `vec=${r.a} [action=${names.softirq(r.a)}]` };
    case E.irq_handler_entry:
      return { event: 'irq_handler_entry', fields: `irq=${r.a} name=${names.irq(r.a)}` };
    case E.irq_handler_exit:
      return { event: 'irq_handler_exit', fields: `irq=${r.a} ret=handled` };
    case E.tasklet_entry:
      return {
        event: 'tasklet_entry',
        fields: `tasklet=${names.tasklet(r.a, r.b)} function=${names.func(r.b)}`,
      };
    case E.tasklet_exit:
      return { event: 'tasklet_exit', fields: `${tasklet()} function=${names.func(names.funcOf(r.a))}` };
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
    default:
      return { event: `unknown_${r.type}`, fields: `a=${r.a} b=${r.b}` };
  }
}

export function ftraceLine(r: TraceRecord, names: TraceNames): string {
  const { event, fields } = ftraceFields(r, names);
  const seconds = (r.time / 1000).toFixed(6).padStart(12);
  const task = `${names.comm(r.pid).padStart(16)}-${String(r.pid).padEnd(7)}`;
  return `${task}[${String(r.cpu).padStart(3, '0')}] ${ftraceFlags(r)} ${seconds}: ${event}: ${fields}`;
}

export function ftraceText(records: TraceRecord[], names: TraceNames, nrCpus: number): string {
  const header = [
    '# tracer: nop',
    '#',
    `# entries-in-buffer/entries-written: ${records.length}/${records.length}   #P:${nrCpus}`,
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
  return `${[...header, ...records.map((r) => ftraceLine(r, names))].join('\n')}\n`;
}
