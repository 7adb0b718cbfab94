/**
 * Trace records as Chrome trace-event JSON (opens in ui.perfetto.dev and chrome://tracing): one
 * track per CPU with slices for the running task, hard irqs, softirq vectors and tasklet runs, a
 * flow arrow from each effective schedule to the run it caused, and a queued-tasklets counter
 * per CPU.
 *
 * There is no sched_switch tracepoint, so a task's slice spans its events in a row on a CPU:
 * from the first to the last event recorded in its context (the idle task gets none). A flow
 * must start inside a slice, or viewers drop it; a schedule from process context starts inside
 * its task's slice.
 */
import { TraceEventType as E, type TraceRecord } from '../../shm/trace-ring.ts';
import { ftraceFields } from './ftrace.ts';
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

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns';
  /** Free-form metadata (the format's `otherData`): how much of the run the rings kept. */
  otherData?: Record<string, unknown>;
}

const PID = 1;
/** Microseconds: a slice's shortest length, so that it encloses an event at its start. */
const EPSILON_US = 0.001;

/** "tasklet=t3 hi=1 queued" → { tasklet: 't3', hi: 1, queued: true } */
function fieldArgs(fields: string): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const field of fields.split(' ')) {
    const eq = field.indexOf('=');
    const value = field.slice(eq + 1);
    if (eq > 0) args[field.slice(0, eq)] = /^-?\d+$/.test(value) ? Number(value) : value;
    else if (field !== '') args[field] = true;
  }
  return args;
}

/** An instant's name: the event and what it is about ("tasklet_kill stress3", "cpu_hotplug cpu=1 state=offline"). */
function instantName(event: string, fields: string): string {
  const tasklet = /^tasklet=(\S+)/.exec(fields);
  return `${event} ${tasklet !== null ? tasklet[1] : fields}`;
}

class CpuTrack {
  /** Open slices, outermost first; the task's slice (if any) is at the bottom. */
  readonly open: string[] = [];
  taskPid = 0;
  lastTs = 0;
  queued = 0;

  constructor(
    readonly cpu: number,
    private readonly events: ChromeTraceEvent[],
  ) {}

  begin(name: string, cat: string, ts: number, args?: Record<string, unknown>): void {
    this.open.push(name);
    this.events.push({ name, cat, ph: 'B', pid: PID, tid: this.cpu, ts, args });
  }

  /** Ends the innermost slice if it is `name`: the rings overwrite, so a begin may be lost. */
  end(name: string, ts: number): void {
    if (this.open.at(-1) !== name) return;
    this.open.pop();
    this.events.push({ name, ph: 'E', pid: PID, tid: this.cpu, ts });
  }

  /** Closes every open slice, the task's too, at `ts`. */
  closeAll(ts: number): void {
    while (this.open.length > 0)
      this.events.push({ name: this.open.pop()!, ph: 'E', pid: PID, tid: this.cpu, ts });
    this.taskPid = 0;
  }

  /** Before an event at `ts` in task `pid`'s context: switches the task slice if it changed. */
  enterTask(pid: number, ts: number, names: TraceNames): void {
    if (pid === this.taskPid) return;
    // The previous task's last event was at lastTs: its slice (and anything left open) ends there.
    this.closeAll(Math.min(this.lastTs + EPSILON_US, ts));
    this.taskPid = pid;
    if (pid !== 0) this.begin(`${names.comm(pid)}-${pid}`, 'task', ts, { pid, comm: names.comm(pid) });
  }
}

export function chromeTrace(
  records: TraceRecord[],
  names: TraceNames,
  nrCpus: number,
  otherData?: Record<string, unknown>,
): ChromeTrace {
  const events: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: PID, args: { name: 'tasklet-rt machine' } },
  ];
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: cpu, args: { name: `CPU ${cpu}` } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: cpu, args: { sort_index: cpu } });
  }
  const tracks = Array.from({ length: nrCpus }, (_, cpu) => new CpuTrack(cpu, events));
  /** tasklet id → flow id of its effective schedule, waiting for the run. */
  const pendingFlow = new Map<number, number>();
  let nextFlow = 1;

  const counter = (track: CpuTrack, ts: number): void => {
    events.push({
      name: `queued tasklets CPU${track.cpu}`,
      ph: 'C',
      pid: PID,
      ts,
      args: { queued: Math.max(0, track.queued) },
    });
  };
  const flowStart = (track: CpuTrack, ts: number, id: number): void => {
    const enclosed = track.open.length > 0;
    if (!enclosed) track.begin('tasklet_schedule', 'schedule', ts);
    events.push({ name: 'schedule → run', cat: 'flow', ph: 's', id, pid: PID, tid: track.cpu, ts });
    if (!enclosed) track.end('tasklet_schedule', ts + EPSILON_US);
  };

  for (const r of records) {
    const ts = r.time * 1000;
    const track = tracks[r.cpu];
    track.enterTask(r.pid, ts, names);
    track.lastTs = ts;
    switch (r.type) {
      case E.irq_handler_entry:
        track.begin(`irq ${r.a}: ${names.irq(r.a)}`, 'hardirq', ts);
        break;
      case E.irq_handler_exit:
        track.end(`irq ${r.a}: ${names.irq(r.a)}`, ts);
        break;
      case E.softirq_entry:
        track.begin(`softirq ${names.softirq(r.a)}`, 'softirq', ts, { vec: r.a });
        break;
      case E.softirq_exit:
        track.end(`softirq ${names.softirq(r.a)}`, ts);
        break;
      case E.softirq_raise:
        break; // one per schedule and more: the flows and counters show what it leads to
      case E.tasklet_entry: {
        track.begin(`tasklet ${names.tasklet(r.a, r.func)}`, 'tasklet', ts, {
          function: names.func(r.func),
          pid: r.pid,
        });
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
        track.queued--;
        counter(track, ts);
        break;
      }
      case E.tasklet_exit:
        track.end(`tasklet ${names.tasklet(r.a, r.func)}`, ts);
        break;
      case E.tasklet_schedule: {
        const effective = (r.b & 2) !== 0;
        const { event, fields } = ftraceFields(r, names);
        events.push({
          name: instantName(r.b & 1 ? 'tasklet_hi_schedule' : event, fields),
          cat: 'schedule',
          ph: 'i',
          s: 't',
          pid: PID,
          tid: r.cpu,
          ts,
          args: { ...fieldArgs(fields), effective },
        });
        if (effective) {
          const id = nextFlow++;
          pendingFlow.set(r.a, id);
          flowStart(track, ts, id);
          track.queued++;
          counter(track, ts);
        }
        break;
      }
      default: {
        const { event, fields } = ftraceFields(r, names);
        events.push({
          name: instantName(event, fields),
          cat: 'tasklet-rt',
          ph: 'i',
          s: 't',
          pid: PID,
          tid: r.cpu,
          ts,
          args: fieldArgs(fields),
        });
      }
    }
  }
  // Close what was still open when the trace ended, so every slice has an end.
  for (const track of tracks) track.closeAll(track.lastTs + EPSILON_US);
  return { traceEvents: events, displayTimeUnit: 'ns', ...(otherData === undefined ? {} : { otherData }) };
}
