/**
 * Trace files from known records (no machine): the ftrace header counts what the rings
 * overwrote, the report says whether the files are cut, and the Chrome JSON follows the
 * trace-event format's rules that viewers enforce: slices nest per track, a flow starts and ends
 * inside a slice, instants have names, and the running task shows on its CPU's track.
 */
import { describe, expect, it } from 'vitest';
import { ftraceFields, ftraceFlags, ftraceLine, ftraceText } from '../harness/trace/ftrace.ts';
import { TraceNames } from '../harness/trace/names.ts';
import { type ChromeTraceEvent, chromeTrace } from '../harness/trace/perfetto.ts';
import { describeTrace, traceSpans } from '../harness/trace/summary.ts';
import { TraceEventType as E, type TraceRecord } from '../shm/trace-ring.ts';

/** Names without a machine: tasklet n is "tn", task 1001 is "stress". */
class FixedNames extends TraceNames {
  constructor() {
    super(null as never);
  }
  override comm(pid: number): string {
    return pid === 0 ? '<idle>' : pid === 10 ? 'ksoftirqd/0' : 'stress';
  }
  override func(): string {
    return 'callback';
  }
  override tasklet(id: number): string {
    return `t${id}`;
  }
  override funcOf(): number {
    return 0;
  }
  override irq(irq: number): string {
    return `dev${irq}`;
  }
}

const names = new FixedNames();
let clock = 0;
/** One record, 10 µs after the previous one. */
function at(cpu: number, pid: number, type: E, a = 0, b = 0): TraceRecord {
  clock += 0.01;
  return { cpu, time: clock, type, a, b, pid, preempt: 0, flags: 0, func: 0 };
}

/**
 * CPU0: task 1001 schedules t3 from process context and disables t4; an irq schedules t5; the
 * softirq at irq exit runs both. CPU1: idle, takes an irq whose tasklet ksoftirqd runs.
 */
function scenario(): TraceRecord[] {
  clock = 0;
  return [
    at(0, 1001, E.tasklet_schedule, 3, 2),
    at(0, 1001, E.softirq_raise, 6),
    at(0, 1001, E.tasklet_disable, 4),
    at(0, 1001, E.irq_handler_entry, 20),
    at(0, 1001, E.tasklet_schedule, 5, 2),
    at(0, 1001, E.irq_handler_exit, 20),
    at(0, 1001, E.softirq_entry, 6),
    at(0, 1001, E.tasklet_entry, 3, 0),
    at(0, 1001, E.tasklet_exit, 3),
    at(0, 1001, E.tasklet_entry, 5, 0),
    at(0, 1001, E.tasklet_exit, 5),
    at(0, 1001, E.softirq_exit, 6),
    at(1, 0, E.irq_handler_entry, 21),
    at(1, 0, E.tasklet_schedule, 7, 3),
    at(1, 0, E.irq_handler_exit, 21),
    at(1, 10, E.softirq_entry, 0),
    at(1, 10, E.tasklet_entry, 7, 0),
    at(1, 10, E.tasklet_exit, 7),
    at(1, 10, E.softirq_exit, 0),
    at(0, 1001, E.cpu_hotplug, 1, 0),
  ];
}

/** Events of one track in the order a viewer reads them: by time, ties in file order. */
function timeline(events: ChromeTraceEvent[]): ChromeTraceEvent[] {
  return events
    .map((e, i) => [e, i] as const)
    .filter(([e]) => e.ph !== 'M' && e.ph !== 'C')
    .sort(([a, i], [b, j]) => a.ts! - b.ts! || i - j)
    .map(([e]) => e);
}

describe('ftrace file', () => {
  it('says how many events were written and marks where each CPU buffer starts when rings overwrote', () => {
    const records = scenario();
    const complete = ftraceText(records, names, 2, [13, 7]);
    expect(complete).toContain('# entries-in-buffer/entries-written: 20/20   #P:2');
    expect(complete).not.toContain('buffer started');

    const cut = ftraceText(records, names, 2, [5000, 7]).split('\n');
    expect(cut).toContain('# entries-in-buffer/entries-written: 20/5007   #P:2');
    const firstCpu1 = cut.findIndex((line) => line.includes('[001]'));
    expect(cut[firstCpu1 - 1]).toBe('##### CPU 1 buffer started ####');
    expect(cut.filter((line) => line.startsWith('#####'))).toHaveLength(1); // not before the first line
  });
});

describe('ftrace lines as the kernel prints them', () => {
  const rec = (over: Partial<TraceRecord>): TraceRecord => ({
    cpu: 3,
    time: 314.011428,
    type: E.tasklet_entry,
    a: 7,
    b: 2,
    pid: 0,
    preempt: 0,
    flags: 0,
    func: 2,
    ...over,
  });

  it('"%16s-%-7d [%03d]": comm, the pid left-aligned in seven columns, a space, the CPU', () => {
    expect(ftraceLine(rec({ preempt: 0x101 }), names)).toBe(
      '          <idle>-0       [003] ..s1.     0.314011: tasklet_entry: tasklet=t7 function=callback',
    );
  });

  it('the bh-off flag for any bh-disable depth, nested too (softirq_count() >> (SOFTIRQ_SHIFT + 1))', () => {
    expect(ftraceFlags(rec({ preempt: 0x200 }))[0]).toBe('b');
    expect(ftraceFlags(rec({ preempt: 0x400 }))[0]).toBe('b'); // two nested local_bh_disable
    expect(ftraceFlags(rec({ preempt: 0x600, flags: 1 }))[0]).toBe('D');
    expect(ftraceFlags(rec({ preempt: 0x100 }))[0]).toBe('.'); // serving, not disabled
    expect(ftraceFlags(rec({ preempt: 0x10100 }))[2]).toBe('H'); // hardirq nested in softirq
  });

  it('irq_handler_exit says what the handler returned', () => {
    expect(ftraceFields(rec({ type: E.irq_handler_exit, a: 5, b: 1 }), names).fields).toBe(
      'irq=5 ret=handled',
    );
    expect(ftraceFields(rec({ type: E.irq_handler_exit, a: 5, b: 0 }), names).fields).toBe(
      'irq=5 ret=unhandled',
    );
  });

  it('names a tasklet event by the function it had then, not by what its slot holds now', () => {
    class SlotNames extends TraceNames {
      constructor() {
        super(null as never);
      }
      override func(id: number): string {
        return ['old_fn', 'new_fn'][id] ?? `callback#${id}`;
      }
      override tasklet(id: number, funcId = this.funcOf()): string {
        return `${this.func(funcId)}#${id}`;
      }
      override funcOf(): number {
        return 1; // the slot was set up again since
      }
    }
    const slot = new SlotNames();
    expect(ftraceFields(rec({ type: E.tasklet_exit, func: 0 }), slot).fields).toBe(
      'tasklet=old_fn#7 function=old_fn',
    );
    expect(ftraceFields(rec({ type: E.tasklet_schedule, b: 2, func: 0 }), slot).fields).toBe(
      'tasklet=old_fn#7 hi=0 queued',
    );
  });
});

describe('trace report', () => {
  const records = scenario();
  const files = [{ path: 'out.txt', format: 'ftrace text' as const }];

  it('names the files, the events and their time span, and says when nothing was lost', () => {
    const lines = describeTrace({ files, capacity: 64, cpus: traceSpans(records, [13, 7]) });
    expect(lines).toEqual([
      'trace: wrote out.txt (ftrace text): 20 events, 0.000 s to 0.000 s, every event recorded',
    ]);
  });

  it('says how many events the rings overwrote and from when every CPU is covered', () => {
    const lines = describeTrace({ files, capacity: 12, cpus: traceSpans(records, [5000, 7]) });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /^trace: cut: the rings keep 12 events per CPU and overwrote the oldest 4987 of 5007; all CPUs are covered from 0\.000 s on \(--trace-buffer N keeps more\)$/,
    );
  });
});

describe('Chrome trace JSON', () => {
  const json = JSON.parse(JSON.stringify(chromeTrace(scenario(), names, 2)));
  const events: ChromeTraceEvent[] = json.traceEvents;

  it('nests slices per track and closes every one', () => {
    const stacks = new Map<number, string[]>();
    for (const e of timeline(events)) {
      const stack = stacks.get(e.tid!) ?? [];
      stacks.set(e.tid!, stack);
      if (e.ph === 'B') stack.push(e.name);
      if (e.ph === 'E') expect(stack.pop()).toBe(e.name);
    }
    expect([...stacks.values()]).toEqual([[], []]);
  });

  it('starts and ends every flow inside a slice, also a schedule from process context', () => {
    const stacks = new Map<number, string[]>();
    const flows: { ph: string; inside: string | undefined }[] = [];
    for (const e of timeline(events)) {
      const stack = stacks.get(e.tid!) ?? [];
      stacks.set(e.tid!, stack);
      if (e.ph === 'B') stack.push(e.name);
      if (e.ph === 'E') stack.pop();
      if (e.ph === 's' || e.ph === 'f') flows.push({ ph: e.ph, inside: stack.at(-1) });
    }
    expect(flows).toEqual([
      { ph: 's', inside: 'stress-1001' }, // t3, from the task
      { ph: 's', inside: 'irq 20: dev20' }, // t5, from the irq
      { ph: 'f', inside: 'tasklet t3' },
      { ph: 'f', inside: 'tasklet t5' },
      { ph: 's', inside: 'irq 21: dev21' }, // t7 on the idle CPU1
      { ph: 'f', inside: 'tasklet t7' },
    ]);
  });

  it('shows the running task as a slice on its CPU track, none for the idle task', () => {
    const tasks = events.filter((e) => e.ph === 'B' && e.cat === 'task').map((e) => `${e.tid}:${e.name}`);
    expect(tasks).toEqual(['0:stress-1001', '1:ksoftirqd/0-10']);
  });

  it('names instant events by what happened, with the fields as arguments', () => {
    const instants = events.filter((e) => e.ph === 'i');
    expect(instants.map((e) => e.name)).toEqual([
      'tasklet_schedule t3',
      'tasklet_disable t4',
      'tasklet_schedule t5',
      'tasklet_hi_schedule t7',
      'cpu_hotplug cpu=1 state=offline',
    ]);
    expect(instants[0].args).toEqual({ tasklet: 't3', hi: 0, queued: true, effective: true });
    expect(instants[4].args).toEqual({ cpu: 1, state: 'offline' });
  });
});
