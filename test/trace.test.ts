/**
 * Tracing: a known scenario yields the expected events in order, every run has exactly one
 * entry/exit pair, the Chrome JSON has the trace-event format's shape, ftrace lines parse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ftraceLine, ftraceText } from '../harness/trace/ftrace.ts';
import { TraceNames } from '../harness/trace/names.ts';
import { chromeTrace } from '../harness/trace/perfetto.ts';
import { Machine } from '../machine/index.ts';
import { TraceEventType as E, type TraceRecord } from '../shm/trace-ring.ts';
import { probeModule, until } from './helpers.ts';

const FTRACE_LINE = /^ *(\S.*)-(\d+) +\[(\d{3})\] ([.dDb][.N][.hHs][.0-9a-f]\.) +(\d+\.\d{6}): (\w+): (.*)$/;

describe('tracing', () => {
  let m: Machine;
  let records: TraceRecord[];
  let names: TraceNames;
  const RUNS = 40;

  beforeAll(async () => {
    m = await Machine.boot({
      cpus: 2,
      modules: [probeModule],
      trace: { capacity: 1 << 14 },
      onPrintk: () => {},
    });
    await m.call(1, 'schedule', { id: 3 });
    await until(
      'probe3 ran',
      async () => ((await m.call(1, 'get', { id: 3 })) as { runs: number }).runs === 1,
    );
    for (let i = 0; i < RUNS; i++) await m.call(i % 2, 'schedule', { id: 4, hi: i % 3 === 0 });
    await until(
      'probe4 ran',
      async () => ((await m.call(0, 'get', { id: 4 })) as { runs: number }).runs >= 1,
    );
    await new Promise((r) => setTimeout(r, 50));
    await m.shutdown();
    records = m.traceRecords();
    names = new TraceNames(m);
  }, 60_000);

  afterAll(async () => m?.shutdown());

  it('records a schedule from an interrupt and its run, in kernel order, on the scheduling CPU', () => {
    // Other tasklets' events may interleave: the test's next schedule can arrive as an IPI that
    // nests in this softirq, as on hardware.
    const taskletEvents = [E.tasklet_schedule, E.tasklet_entry, E.tasklet_exit, E.tasklet_requeue];
    const onCpu1 = records.filter(
      (r) =>
        r.cpu === 1 &&
        r.type !== E.softirq_raise &&
        r.type !== E.irq_handler_entry &&
        r.type !== E.irq_handler_exit &&
        !(taskletEvents.includes(r.type) && r.a !== 3),
    );
    const start = onCpu1.findIndex((r) => r.type === E.tasklet_schedule && r.a === 3);
    expect(start).toBeGreaterThanOrEqual(0);
    const sequence = onCpu1.slice(start, start + 5).map((r) => `${E[r.type]}:${r.a}`);
    expect(sequence).toEqual([
      'tasklet_schedule:3',
      'softirq_entry:6',
      'tasklet_entry:3',
      'tasklet_exit:3',
      'softirq_exit:6',
    ]);
    const raised = records.find((r) => r.cpu === 1 && r.type === E.softirq_raise && r.a === 6);
    expect(raised?.time).toBeLessThanOrEqual(onCpu1[start + 1].time);
  });

  it('gives every run exactly one tasklet_entry/tasklet_exit pair, never nested, per CPU', () => {
    for (let cpu = 0; cpu < 2; cpu++) {
      let open = -1;
      for (const r of records.filter((x) => x.cpu === cpu)) {
        if (r.type === E.tasklet_entry) {
          expect(open).toBe(-1);
          open = r.a;
        } else if (r.type === E.tasklet_exit) {
          expect(open).toBe(r.a);
          open = -1;
        }
      }
      expect(open).toBe(-1);
    }
    const entries = records.filter((r) => r.type === E.tasklet_entry && r.a === 4).length;
    const effective = records.filter(
      (r) => r.type === E.tasklet_schedule && r.a === 4 && (r.b & 2) !== 0,
    ).length;
    expect(entries).toBe(effective); // each effective schedule produced one run, each run one pair
  });

  it('writes ftrace lines that parse: task-pid, [CPU], five flag columns, timestamp, event, fields', () => {
    const text = ftraceText(records, names, 2)
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(text.length).toBe(records.length);
    for (const line of text) expect(line).toMatch(FTRACE_LINE);
    const entry = records.find((r) => r.type === E.tasklet_entry && r.a === 3)!;
    const [, comm, pid, cpu, flags, , event, fields] = FTRACE_LINE.exec(ftraceLine(entry, names))!;
    expect([comm.trim(), pid, cpu, event, fields]).toEqual([
      comm.trim(),
      String(entry.pid),
      '001',
      'tasklet_entry',
      'tasklet=probe3 function=probe_callback',
    ]);
    expect(flags[2]).toBe('s'); // serving softirq
    const irq = records.find((r) => r.type === E.irq_handler_entry)!;
    // N: an earlier function call may have woken a task on the idle CPU (need-resched set).
    expect(ftraceLine(irq, names)).toMatch(/ d[.N]h[.0-9a-f]\. .*irq_handler_entry: irq=\d+ name=/);
  });

  it('writes Chrome trace-event JSON with the format shape: balanced slices, matched flows, counters', () => {
    const json = JSON.parse(JSON.stringify(chromeTrace(records, names, 2)));
    expect(Array.isArray(json.traceEvents)).toBe(true);
    const stacks = new Map<number, string[]>();
    const flowStarts = new Set<number>();
    for (const e of json.traceEvents) {
      expect(typeof e.name).toBe('string');
      expect(['B', 'E', 'i', 's', 'f', 'C', 'M']).toContain(e.ph);
      expect(typeof e.pid).toBe('number');
      if (e.ph !== 'M') expect(typeof e.ts).toBe('number');
      if (e.ph === 'B') stacks.set(e.tid, [...(stacks.get(e.tid) ?? []), e.name]);
      if (e.ph === 'E') expect(stacks.get(e.tid)?.pop()).toBe(e.name);
      if (e.ph === 's') flowStarts.add(e.id);
      if (e.ph === 'f') expect(flowStarts.has(e.id)).toBe(true);
      if (e.ph === 'C') expect(typeof e.args.queued).toBe('number');
    }
    for (const stack of stacks.values()) expect(stack).toEqual([]);
    const threads = json.traceEvents
      .filter((e: { name: string }) => e.name === 'thread_name')
      .map((e: { args: { name: string } }) => e.args.name);
    expect(threads).toEqual(['CPU 0', 'CPU 1']);
    expect(
      json.traceEvents.some((e: { ph: string; name: string }) => e.ph === 'B' && e.name === 'tasklet probe3'),
    ).toBe(true);
    expect(json.traceEvents.some((e: { ph: string }) => e.ph === 'f')).toBe(true);
  });
});
