/**
 * BH workqueues (docs/semantics.md §10): work runs in the queueing CPU's softirq, before that
 * vector's tasklets, in queueing order, never concurrently with itself (W1); cancel_work_sync and
 * disable_work_sync return with it neither pending nor running (W2); flush_work waits for the
 * queued run (W3); queueing a disabled work item fails and is forgotten (W4); hot-unplug moves
 * queued work to a live CPU. Every wait is bounded; speed is never asserted.
 */
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
  F_RUNS,
  F_SPIN_US,
  W_TASKLET_HI_ORDER,
  W_TASKLET_ORDER,
} from './modules/works-layout.ts';
import {
  flushWakeReports,
  get,
  type Peek,
  pause,
  queueHeld,
  reset,
  runsReach,
  set,
  w1Reentry,
  w2CancelSync,
  w3FlushQueued,
  w4Disabled,
  whileHeld,
  word,
  worksModule,
} from './work-scenarios.ts';

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
    expect(await w1Reentry(m)).toEqual({ overlaps: 0, cpus: [0, 0, 0] });
  });
  it('W2: cancel_work_sync returns with it neither pending nor running; a self-requeueing work stops', async () => {
    const { peek, ranAfter } = await w2CancelSync(m);
    expect(peek).toMatchObject({ inside: 0, pending: false });
    expect(ranAfter).toBe(false);
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
  it('W3: flush_work waits for the run in progress, and for a queued run after it', async () => {
    reset(m);
    await queueHeld(m, 2);
    const running = (await whileHeld(m, 2, 1, () => m.runTask(1, 'flushPeek', { id: 2 }))) as Peek;
    expect(running).toMatchObject({ ret: true, runs: 1, inside: 0 });
    // Running and queued again (from CPU1, so it goes to CPU0 after the run): flush waits for both.
    const { queued, peek } = await w3FlushQueued(m);
    expect(queued).toBe(true);
    expect(peek.ret).toBe(true);
    expect(peek.runs).toBe(2);
    expect(((await m.runTask(1, 'flushPeek', { id: 2 })) as Peek).ret).toBe(false); // idle: nothing to wait for
  });

  it('W3: a flush asleep through the run is woken by its end (no lost wake-up reported)', async () => {
    expect(await flushWakeReports(m)).toEqual([]);
  });

  it('W4: queueing a disabled work fails and is forgotten; disable_work cancels; n disables need n enables', async () => {
    // queue → true; disable → true (it was pending: cancelled); disable → false; queue → false.
    expect(await w4Disabled(m)).toEqual({ results: [true, true, false, false, false], runs: 0 });
    expect(await m.call(0, 'disable', { id: 3 })).toBe(false);
    expect(await m.call(0, 'enable', { id: 3 })).toBe(true);
    expect(await m.call(0, 'queue', { id: 3 })).toBe(true);
    await runsReach(m, 3, 1);
  });
  it('disable_work_sync waits for a run in progress', async () => {
    reset(m);
    await queueHeld(m, 4);
    const peek = (await whileHeld(m, 4, 1, () => m.runTask(1, 'disableSyncPeek', { id: 4 }))) as Peek;
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
