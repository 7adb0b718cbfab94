/**
 * Kernel timers (docs/semantics.md §8): arming, moving, deleting, expiry order, the TIMER
 * softirq, and the guarantees T1-T6. Every wait is bounded by `until`; speed is never asserted.
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
  F_EARLY,
  F_ORDER,
  F_OVERLAPS,
  F_RUNS,
  W_FROM_TASKLET,
} from './modules/timers-layout.ts';
import {
  get,
  quiet,
  reset,
  runsReach,
  T6_RETURNS,
  t1Overlaps,
  t2Early,
  t3AfterDelSync,
  t4Runs,
  t5LeftOnDeadCpu,
  t6Returns,
  timersModule,
} from './timer-scenarios.ts';

const timerMove = new URL('./modules/timer-move.ts', import.meta.url).pathname;

describe('kernel timers on a 2-CPU machine', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await bootShared({ modules: [timersModule] });
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('fires once, in softirq context, not before expires (T2), on the arming CPU; from_timer gives its container', async () => {
    reset(m);
    for (const cpu of [0, 1]) {
      const id = 2 + cpu;
      expect(await m.call(cpu, 'arm', { id, delay: 3 })).toBe(false);
      await runsReach(m, id, 1);
      expect(get(m, id, F_CPU)).toBe(cpu);
      expect(get(m, id, F_CONTAINER)).toBe(id);
      expect(await m.call(cpu, 'pending', { id })).toBe(false);
    }
    await new Promise((r) => setTimeout(r, 30));
    for (const id of [2, 3]) {
      expect(get(m, id, F_RUNS)).toBe(1);
      expect(get(m, id, F_EARLY)).toBe(0);
      expect(get(m, id, F_BAD_CONTEXT)).toBe(0);
    }
  });

  it('/proc/softirqs counts TIMER on the CPUs that ran timers', async () => {
    const text = await m.readProc('/proc/softirqs');
    const row = text.split('\n').find((l) => l.startsWith('       TIMER:'))!;
    const counts = row.slice(13).trim().split(/ +/).map(Number);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it('/proc/timer_list lists each online CPU base with its pending timers, function and expiry in jiffies', async () => {
    reset(m);
    await m.call(1, 'arm', { id: 5, delay: 100_000 });
    const { expires } = (await m.call(1, 'info', { id: 5 })) as { expires: number };
    const text = await m.readProc('/proc/timer_list');
    expect(text).toMatch(/^Timer List Version: v0\.9/);
    expect(text).toMatch(/\njiffies: \d+\n/);
    const cpu1 = text.slice(text.indexOf('cpu: 1\n'));
    expect(text.indexOf('cpu: 0\n')).toBeGreaterThan(0);
    expect(cpu1).toMatch(
      new RegExp(
        ` #0: timer_fn#\\d+, timer_fn, S:01\n # expires at ${expires} jiffies \\[in \\d+ jiffies\\]`,
      ),
    );
    const cpu0 = text.slice(text.indexOf('cpu: 0\n'), text.indexOf('cpu: 1\n'));
    expect(cpu0).not.toContain('timer_fn');
    expect(await m.call(1, 'del', { id: 5 })).toBe(true);
    expect(await m.readProc('/proc/timer_list')).not.toContain('timer_fn');
  });

  it('mod_timer on a pending timer moves it (later expiry, and to the calling CPU) and returns true', async () => {
    reset(m);
    // Far enough ahead that a busy host cannot let it fire between the two calls.
    expect(await m.call(0, 'arm', { id: 0, delay: 2000 })).toBe(false);
    expect(await m.call(1, 'arm', { id: 0, delay: 5 })).toBe(true);
    const info = (await m.call(1, 'info', { id: 0 })) as { cpu: number; pending: boolean };
    expect(info).toMatchObject({ cpu: 1, pending: true });
    await runsReach(m, 0, 1);
    expect(get(m, 0, F_CPU)).toBe(1);
    // Moving it later (in the same interrupt): it does not fire at the first expiry.
    expect(await m.call(0, 'arm_many', { ids: [1, 1], delays: [2, 30] })).toEqual([false, true]);
    const after = (await m.call(0, 'info', { id: 1 })) as { expires: number; jiffies: number };
    expect(after.expires - after.jiffies).toBeGreaterThan(20);
    await runsReach(m, 1, 1);
    expect(get(m, 1, F_RUNS)).toBe(1);
    expect(get(m, 1, F_EARLY)).toBe(0);
  });

  it('del_timer: true on a pending timer, which then never runs; false on an idle one; mod_timer_pending leaves an idle timer idle', async () => {
    reset(m);
    await quiet(m);
    await m.call(0, 'arm', { id: 4, delay: 2000 });
    expect(await m.call(1, 'pending', { id: 4 })).toBe(true);
    expect(await m.call(1, 'del', { id: 4 })).toBe(true);
    expect(await m.call(1, 'del', { id: 4 })).toBe(false);
    expect(await m.call(0, 'arm_pending', { id: 4, delay: 1 })).toBe(false);
    expect(await m.call(0, 'pending', { id: 4 })).toBe(false);
    await new Promise((r) => setTimeout(r, 40));
    expect(get(m, 4, F_RUNS)).toBe(0);
  });

  it('runs due timers in expiry order, arming order among equal expiries', async () => {
    reset(m);
    await quiet(m);
    // Armed in one hard-irq call (interrupts off: no tick in between): delays 9, 3, 6, 3.
    await m.call(0, 'arm_many', { ids: [0, 1, 2, 3], delays: [9, 3, 6, 3] });
    for (let id = 0; id < 4; id++) await runsReach(m, id, 1);
    const order = [0, 1, 2, 3].sort((a, b) => get(m, a, F_ORDER) - get(m, b, F_ORDER));
    expect(order).toEqual([1, 3, 2, 0]);
  });

  it('add_timer_on runs it on the given CPU', async () => {
    reset(m);
    await m.call(0, 'arm_on', { id: 5, delay: 2, cpu: 1 });
    expect(((await m.call(0, 'info', { id: 5 })) as { cpu: number }).cpu).toBe(1);
    await runsReach(m, 5, 1);
    expect(get(m, 5, F_CPU)).toBe(1);
  });

  it('T2: never before expires (forty arms two jiffies ahead)', async () => {
    expect(await t2Early(m)).toBe(0);
  });

  it('T4: a callback may re-arm its own timer (6 runs from one arm and 5 re-arms)', async () => {
    expect(await t4Runs(m)).toBe(6);
    expect(get(m, 6, F_CPU)).toBe(1);
    expect(get(m, 6, F_OVERLAPS) + get(m, 6, F_EARLY)).toBe(0);
  });

  it('T1: re-arming a running timer from another CPU does not move it off its base: no overlap', async () => {
    expect(await t1Overlaps(m)).toBe(0);
    expect(get(m, 7, F_CPU)).toBe(0);
  });

  it('T3: after del_timer_sync returns the callback is neither pending nor running, and does not run again', async () => {
    expect(await t3AfterDelSync(m)).toEqual({ inside: 0, pending: 0, ranAfter: 0 });
  });

  it('T6: mod_timer, mod_timer_pending, del_timer and del_timer_sync return whether the timer was pending', async () => {
    expect(await t6Returns(m)).toEqual(T6_RETURNS);
  });
});

describe('from_tasklet', () => {
  it('a tasklet callback reaches the struct it is embedded in', async () => {
    const m = await boot({ modules: [timersModule] });
    await m.call(1, 'taskletContainer', { container: 4242 });
    await until('the tasklet ran', () => Atomics.load(m.sharedWords('timers'), W_FROM_TASKLET) !== 0);
    expect(Atomics.load(m.sharedWords('timers'), W_FROM_TASKLET)).toBe(4242);
  });
});

describe('timers and CPU hot-unplug', () => {
  it('T6: a timer moving to a live CPU at hot-unplug stays pending at every access of the move (lockless timer_pending readers)', async () => {
    const m = await boot({ cpus: 2, modules: [timerMove] });
    expect(await m.call(1, 'arm')).toBe(false);
    await m.call(0, 'watch');
    await m.cpuDown(1);
    const seen = (await m.call(0, 'unwatch')) as { accesses: number; notPending: number; cpu: number };
    expect(seen.cpu).toBe(0); // it moved, while watched
    expect(seen.accesses).toBeGreaterThan(0);
    expect(seen.notPending).toBe(0);
  });

  it('T5: pending timers of a CPU that goes offline migrate to a live CPU and run there, not early, in order', async () => {
    const m = await boot({ cpus: 3, modules: [timersModule] });
    expect(await t5LeftOnDeadCpu(m)).toBe(false);
    for (let id = 0; id < 4; id++) await runsReach(m, id, 1);
    for (let id = 0; id < 4; id++) {
      expect(get(m, id, F_CPU)).not.toBe(2);
      expect(get(m, id, F_EARLY)).toBe(0);
      expect(get(m, id, F_RUNS)).toBe(1);
    }
    const order = [0, 1, 2, 3].sort((a, b) => get(m, a, F_ORDER) - get(m, b, F_ORDER));
    expect(order).toEqual([0, 1, 2, 3]);
  });
});

describe('timer tracepoints', () => {
  it('timer_start, timer_expire_entry, timer_expire_exit and timer_cancel in the ftrace text', async () => {
    const m = await boot({ modules: [timersModule], trace: { capacity: 1 << 14 } });
    await m.call(1, 'arm', { id: 3, delay: 2 });
    await runsReach(m, 3, 1);
    await m.call(0, 'arm', { id: 4, delay: 2000 });
    expect(await m.call(0, 'del', { id: 4 })).toBe(true);
    await m.shutdown();
    const text = ftraceText(m.traceRecords(), new TraceNames(m), 2);
    expect(text).toMatch(
      /\[001\] .{5} +\d+\.\d{6}: timer_start: timer=timer_fn#3 function=timer_fn expires=\d+ \[timeout=-?\d+\] cpu=1 idx=0 flags=/,
    );
    expect(text).toMatch(
      /\[001\] ..s.. +\d+\.\d{6}: timer_expire_entry: timer=timer_fn#3 function=timer_fn now=\d+/,
    );
    expect(text).toMatch(/timer_expire_exit: timer=timer_fn#3\n/);
    expect(text).toMatch(/\[000\] .{5} +\d+\.\d{6}: timer_cancel: timer=timer_fn#4\n/);
    const entries = text.split('\n').filter((l) => l.includes('timer_expire_entry: timer=timer_fn#3')).length;
    expect(entries).toBe(1);
  });
});
