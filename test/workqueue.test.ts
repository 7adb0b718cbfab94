/**
 * BH workqueues (docs/semantics.md §10): work runs in the queueing CPU's softirq, before that
 * vector's tasklets, in queueing order, never concurrently with itself (W1); cancel_work_sync and
 * disable_work_sync return with it neither pending nor running (W2); flush_work waits for the
 * queued run (W3); queueing a disabled work item fails and is forgotten (W4); hot-unplug moves
 * queued work to a live CPU. Every wait is bounded; speed is never asserted.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ftraceText } from '../harness/trace/ftrace.ts';
import { TraceNames } from '../harness/trace/names.ts';
import type { Machine } from '../machine/index.ts';
import { boot, bootShared, until } from './helpers.ts';
import {
  F_BAD_CONTEXT,
  F_CONTAINER,
  F_CPU,
  F_INSIDE,
  F_ORDER,
  F_OVERLAPS,
  F_REQUEUE,
  F_RUNS,
  F_SPIN_US,
  FIELDS,
  W_TASKLET_HI_ORDER,
  W_TASKLET_ORDER,
  WORDS,
} from './modules/works-layout.ts';

const worksModule = fileURLToPath(new URL('./modules/works.ts', import.meta.url));
const words = (m: Machine): Int32Array => m.sharedWords('works');
const get = (m: Machine, id: number, field: number): number => Atomics.load(words(m), id * FIELDS + field);
const word = (m: Machine, w: number): number => Atomics.load(words(m), w);
const set = (m: Machine, id: number, field: number, v: number): void => {
  Atomics.store(words(m), id * FIELDS + field, v);
};
const reset = (m: Machine): void => {
  words(m).fill(0, 0, WORDS);
};
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const runsReach = (m: Machine, id: number, n: number): Promise<void> =>
  until(`work ${id} ran ${n} times`, () => get(m, id, F_RUNS) >= n);

interface Peek {
  ret: boolean;
  inside: number;
  pending: boolean;
  runs: number;
}

describe('BH workqueues on a 2-CPU machine', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await bootShared({ modules: [worksModule] });
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('queue_work runs it once on the queueing CPU in softirq context; a second queue while pending coalesces', async () => {
    reset(m);
    for (const [cpu, hi] of [
      [0, false],
      [1, true],
    ] as const) {
      const id = cpu;
      expect(
        await m.call(cpu, 'queueMany', [
          { id, hi },
          { id, hi },
        ]),
      ).toEqual([true, false]);
      await runsReach(m, id, 1);
      expect(get(m, id, F_CPU)).toBe(cpu);
      expect(get(m, id, F_CONTAINER)).toBe(id);
    }
    await pause(20);
    expect([get(m, 0, F_RUNS), get(m, 1, F_RUNS)]).toEqual([1, 1]);
    expect(get(m, 0, F_BAD_CONTEXT) + get(m, 1, F_BAD_CONTEXT)).toBe(0);
  });

  it('queue_work_on runs it on the given CPU', async () => {
    reset(m);
    expect(await m.call(0, 'queue', { id: 2, cpu: 1 })).toBe(true);
    await runsReach(m, 2, 1);
    expect(get(m, 2, F_CPU)).toBe(1);
  });

  it('runs in queueing order, and before the tasklets of its vector (TASKLET and HI)', async () => {
    reset(m);
    await m.call(0, 'queueMany', [{ id: 3 }, { id: 1 }, { id: 2 }]);
    for (const id of [1, 2, 3]) await runsReach(m, id, 1);
    expect(get(m, 3, F_ORDER)).toBeLessThan(get(m, 1, F_ORDER));
    expect(get(m, 1, F_ORDER)).toBeLessThan(get(m, 2, F_ORDER));
    for (const hi of [false, true]) {
      reset(m);
      await m.call(1, 'queueAfterTasklet', { id: 4, hi });
      await runsReach(m, 4, 1);
      const tw = hi ? W_TASKLET_HI_ORDER : W_TASKLET_ORDER;
      await until('companion tasklet ran', () => word(m, tw) > 0);
      expect(get(m, 4, F_ORDER)).toBeLessThan(word(m, tw));
    }
  });

  it('W1: queued again from another CPU while it runs, it runs again after, on the same CPU, never overlapping', async () => {
    reset(m);
    for (let round = 0; round < 3; round++) {
      set(m, 5, F_SPIN_US, 20_000);
      await m.call(0, 'queue', { id: 5 });
      await until('work 5 inside', () => get(m, 5, F_INSIDE) === 1);
      set(m, 5, F_SPIN_US, 0);
      expect(await m.call(1, 'queue', { id: 5 })).toBe(true); // not pending while it runs
      await runsReach(m, 5, 2 * round + 2);
      expect(get(m, 5, F_CPU)).toBe(0);
    }
    expect(get(m, 5, F_OVERLAPS)).toBe(0);
  });

  it('W2: cancel_work_sync returns with it neither pending nor running; a self-requeueing work stops', async () => {
    reset(m);
    set(m, 6, F_SPIN_US, 3_000);
    set(m, 6, F_REQUEUE, 1_000_000);
    await m.call(0, 'queue', { id: 6 });
    await until('work 6 inside', () => get(m, 6, F_INSIDE) === 1);
    const peek = (await m.runTask(1, 'cancelSyncPeek', { id: 6 })) as Peek;
    expect(peek).toMatchObject({ inside: 0, pending: false });
    await pause(30);
    expect(get(m, 6, F_RUNS)).toBe(peek.runs);
    set(m, 6, F_REQUEUE, 0);
    // cancel_work (not sync) on a queued work: true, and it never runs.
    reset(m);
    expect(
      await m.call(0, 'ops', [
        { op: 'queue', id: 7 },
        { op: 'cancel', id: 7 },
        { op: 'pending', id: 7 },
      ]),
    ).toEqual([true, true, false]);
    await pause(20);
    expect(get(m, 7, F_RUNS)).toBe(0);
  });

  it('W3: flush_work waits for the queued run to finish', async () => {
    reset(m);
    set(m, 2, F_SPIN_US, 10_000);
    await m.call(0, 'queue', { id: 2 });
    const peek = (await m.runTask(1, 'flushPeek', { id: 2 })) as Peek;
    expect(peek.ret).toBe(true);
    expect(peek.runs).toBe(1);
    expect(peek.inside).toBe(0);
    expect(((await m.runTask(1, 'flushPeek', { id: 2 })) as Peek).ret).toBe(false); // idle: nothing to wait for
  });

  it('W4: queueing a disabled work fails and is forgotten; disable_work cancels; n disables need n enables', async () => {
    reset(m);
    expect(
      await m.call(0, 'ops', [
        { op: 'queue', id: 3 },
        { op: 'disable', id: 3 }, // it was pending: cancelled
        { op: 'disable', id: 3 },
        { op: 'queue', id: 3 },
        { op: 'pending', id: 3 },
      ]),
    ).toEqual([true, true, false, false, false]);
    expect(await m.call(0, 'enable', { id: 3 })).toBe(false); // still disabled once
    expect(await m.call(0, 'enable', { id: 3 })).toBe(true);
    await pause(30);
    expect(get(m, 3, F_RUNS)).toBe(0); // nothing remembered the queueing (a tasklet would run now)
    expect(await m.call(0, 'queue', { id: 3 })).toBe(true);
    await runsReach(m, 3, 1);
  });

  it('disable_work_sync waits for a run in progress', async () => {
    reset(m);
    set(m, 4, F_SPIN_US, 20_000);
    await m.call(0, 'queue', { id: 4 });
    await until('work 4 inside', () => get(m, 4, F_INSIDE) === 1);
    const peek = (await m.runTask(1, 'disableSyncPeek', { id: 4 })) as Peek;
    expect(peek).toMatchObject({ ret: false, inside: 0, pending: false, runs: 1 });
    expect(await m.call(1, 'queue', { id: 4 })).toBe(false);
    expect(await m.call(1, 'enable', { id: 4 })).toBe(true);
  });

  it('/proc/softirqs: BH work counts under TASKLET and HI', async () => {
    const text = await m.readProc('/proc/softirqs');
    expect(text).toMatch(/ {10}HI: +\d+ +[1-9]\d*\n/);
    expect(text).toMatch(/ {5}TASKLET: +[1-9]\d* +\d+\n/);
  });
});

describe('BH work and CPU hot-unplug', () => {
  it('queued work of a CPU that goes offline runs on a live CPU, in order', async () => {
    const m = await boot({ cpus: 3, modules: [worksModule] });
    reset(m);
    // CPU2 holds bh off in a long work so that the next ones stay queued when it goes down.
    set(m, 0, F_SPIN_US, 30_000);
    await m.call(2, 'queueMany', [{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }]);
    await until('work 0 inside', () => get(m, 0, F_INSIDE) === 1);
    await m.cpuDown(2);
    for (let id = 0; id < 4; id++) await runsReach(m, id, 1);
    for (let id = 1; id < 4; id++) expect(get(m, id, F_RUNS)).toBe(1);
    const order = [0, 1, 2, 3].sort((a, b) => get(m, a, F_ORDER) - get(m, b, F_ORDER));
    expect(order).toEqual([0, 1, 2, 3]);
  });
});

describe('workqueue tracepoints', () => {
  it('workqueue_queue_work, workqueue_execute_start and _end in the ftrace text', async () => {
    const m = await boot({ modules: [worksModule], trace: { capacity: 1 << 14 } });
    await m.call(1, 'queue', { id: 5, hi: true });
    await until('work 5 ran', () => get(m, 5, F_RUNS) === 1);
    await m.shutdown();
    const text = ftraceText(m.traceRecords(), new TraceNames(m), 2);
    expect(text).toMatch(
      /\[001\] .{5} +\d+\.\d{6}: workqueue_queue_work: work struct=work_fn#5 function=work_fn workqueue=events_bh_highpri req_cpu=1 cpu=1\n/,
    );
    expect(text).toMatch(
      /\[001\] ..s.. +\d+\.\d{6}: workqueue_execute_start: work struct work_fn#5: function work_fn\n/,
    );
    expect(text).toMatch(/workqueue_execute_end: work struct work_fn#5: function work_fn\n/);
  });
});
