/**
 * Trace records as Chrome trace-event JSON (opens in ui.perfetto.dev and chrome://tracing): one
 * track per CPU with slices for hard irqs, softirq vectors and tasklet runs, a flow arrow from
 * each effective schedule to the run it caused, and a queued-tasklets counter per CPU.
 */
import { TraceEventType as E, type TraceRecord } from '../../shm/trace-ring.ts';
import type { TraceNames } from './names.ts';

export interface ChromeTraceEvent {
  name: string;
  ph: 'B' | 'E' | 'i' | 's' | 'f' | 'C' | 'M';
  pid: number;
  tid?: number;
  ts?: number;
  cat?: string;
  id?: number;
  bp?: 'e';
  s?: 't';
  args?: Record<string, unknown>;
}

const PID = 1;

export function chromeTrace(
  records: TraceRecord[],
  names: TraceNames,
  nrCpus: number,
): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: 'ns' } {
  const events: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: PID, args: { name: 'tasklet-rt machine' } },
  ];
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: cpu, args: { name: `CPU ${cpu}` } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: cpu, args: { sort_index: cpu } });
  }
  const open: string[][] = Array.from({ length: nrCpus }, () => []);
  const queued = new Array<number>(nrCpus).fill(0);
  /** tasklet id → flow id of its effective schedule, waiting for the run. */
  const pendingFlow = new Map<number, number>();
  let nextFlow = 1;
  let lastTs = 0;

  const begin = (r: TraceRecord, name: string, cat: string, args?: Record<string, unknown>): void => {
    open[r.cpu].push(name);
    events.push({ name, cat, ph: 'B', pid: PID, tid: r.cpu, ts: r.time * 1000, args });
  };
  const end = (r: TraceRecord, name: string): void => {
    // The rings overwrite their oldest events: an end whose begin was lost is dropped.
    if (open[r.cpu].at(-1) !== name) return;
    open[r.cpu].pop();
    events.push({ name, ph: 'E', pid: PID, tid: r.cpu, ts: r.time * 1000 });
  };
  const counter = (r: TraceRecord): void => {
    events.push({
      name: `queued tasklets CPU${r.cpu}`,
      ph: 'C',
      pid: PID,
      ts: r.time * 1000,
      args: { queued: Math.max(0, queued[r.cpu]) },
    });
  };

  for (const r of records) {
    const ts = r.time * 1000;
    lastTs = ts;
    switch (r.type) {
      case E.irq_handler_entry:
        begin(r, `irq ${r.a}: ${names.irq(r.a)}`, 'hardirq');
        break;
      case E.irq_handler_exit:
        end(r, `irq ${r.a}: ${names.irq(r.a)}`);
        break;
      case E.softirq_entry:
        begin(r, `softirq ${names.softirq(r.a)}`, 'softirq', { vec: r.a });
        break;
      case E.softirq_exit:
        end(r, `softirq ${names.softirq(r.a)}`);
        break;
      case E.tasklet_entry: {
        const name = `tasklet ${names.tasklet(r.a, r.b)}`;
        begin(r, name, 'tasklet', { function: names.func(r.b), pid: r.pid });
        const flow = pendingFlow.get(r.a);
        if (flow !== undefined) {
          events.push({
            name: 'schedule → run',
            cat: 'flow',
            ph: 'f',
            bp: 'e',
            id: flow,
            pid: PID,
            tid: r.cpu,
            ts,
          });
          pendingFlow.delete(r.a);
        }
        queued[r.cpu]--;
        counter(r);
        break;
      }
      case E.tasklet_exit:
        end(r, `tasklet ${names.tasklet(r.a)}`);
        break;
      case E.tasklet_schedule: {
        const effective = (r.b & 2) !== 0;
        events.push({
          name: `${r.b & 1 ? 'tasklet_hi_schedule' : 'tasklet_schedule'} ${names.tasklet(r.a)}`,
          cat: 'schedule',
          ph: 'i',
          s: 't',
          pid: PID,
          tid: r.cpu,
          ts,
          args: { effective },
        });
        if (effective) {
          const id = nextFlow++;
          pendingFlow.set(r.a, id);
          events.push({ name: 'schedule → run', cat: 'flow', ph: 's', id, pid: PID, tid: r.cpu, ts });
          queued[r.cpu]++;
          counter(r);
        }
        break;
      }
      default:
        if (r.type !== E.softirq_raise) {
          events.push({
            name: E[r.type] ?? `event ${r.type}`,
            cat: 'tasklet-rt',
            ph: 'i',
            s: 't',
            pid: PID,
            tid: r.cpu,
            ts,
            args: { a: r.a, b: r.b },
          });
        }
    }
  }
  // Close what was still open when the trace ended, so every slice has an end.
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    while (open[cpu].length > 0)
      events.push({ name: open[cpu].pop()!, ph: 'E', pid: PID, tid: cpu, ts: lastTs });
  }
  return { traceEvents: events, displayTimeUnit: 'ns' };
}
