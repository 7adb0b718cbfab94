/**
 * Kernel timers (docs/semantics.md §8): arming, moving, deleting, expiry order, the TIMER
 * softirq, and the guarantees T1-T5. Every wait is bounded by `until`; speed is never asserted.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ftraceText } from '../harness/trace/ftrace.ts';
import { TraceNames } from '../harness/trace/names.ts';
import type { Machine } from '../machine/index.ts';
import { C_RUNNING_TIMER, C_TIMER_HEAD } from '../shm/layout.ts';
import { boot, bootShared, until } from './helpers.ts';
import {
  F_BAD_CONTEXT,
  F_CONTAINER,
  F_CPU,
  F_EARLY,
  F_INSIDE,
  F_ORDER,
  F_OVERLAPS,
  F_REARM,
  F_REARM_DELAY,
  F_RUNS,
  F_SPIN_US,
  FIELDS,
  TIMERS,
} from './modules/timers-layout.ts';

const timersModule = fileURLToPath(new URL('./modules/timers.ts', import.meta.url));

const words = (m: Machine): Int32Array => m.sharedWords('timers');
const get = (m: Machine, id: number, field: number): number => Atomics.load(words(m), id * FIELDS + field);
const set = (m: Machine, id: number, field: number, v: number): void => {
  Atomics.store(words(m), id * FIELDS + field, v);
};

function reset(m: Machine): void {
  words(m).fill(0, 0, TIMERS * FIELDS);
}

const runsReach = (m: Machine, id: number, n: number, what = `timer ${id} ran ${n} times`) =>
  until(what, () => get(m, id, F_RUNS) >= n);

/** Waits until every base is empty and no callback runs (the machine's timers are quiet). */
async function quiet(m: Machine): Promise<void> {
  await until('timers quiet', () =>
    m
      .onlineCpus()
      .every((cpu) => m.cpuWord(cpu, C_TIMER_HEAD) === 0 && m.cpuWord(cpu, C_RUNNING_TIMER) === 0),
  );
}

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
      expect(await m.call(cpu, 'pending', { id })).toBe(true);
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

  it('mod_timer on a pending timer moves it (later expiry, and to the calling CPU) and returns true', async () => {
    reset(m);
    expect(await m.call(0, 'arm', { id: 0, delay: 40 })).toBe(false);
    expect(await m.call(1, 'arm', { id: 0, delay: 5 })).toBe(true);
    const info = (await m.call(1, 'info', { id: 0 })) as { cpu: number; pending: boolean };
    expect(info).toMatchObject({ cpu: 1, pending: true });
    await runsReach(m, 0, 1);
    expect(get(m, 0, F_CPU)).toBe(1);
    // Moving it later: it does not fire at the first expiry.
    expect(await m.call(0, 'arm', { id: 1, delay: 2 })).toBe(false);
    expect(await m.call(0, 'arm', { id: 1, delay: 30 })).toBe(true);
    const after = (await m.call(0, 'info', { id: 1 })) as { expires: number; jiffies: number };
    expect(after.expires - after.jiffies).toBeGreaterThan(20);
    await runsReach(m, 1, 1);
    expect(get(m, 1, F_RUNS)).toBe(1);
    expect(get(m, 1, F_EARLY)).toBe(0);
  });

  it('del_timer: true on a pending timer, which then never runs; false on an idle one; mod_timer_pending leaves an idle timer idle', async () => {
    reset(m);
    await quiet(m);
    await m.call(0, 'arm', { id: 4, delay: 3 });
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
    // Armed in one hard-irq call each, back to back: delays 9, 3, 6, 3 → order 1, 3, 2, 0.
    const delays = [9, 3, 6, 3];
    for (let id = 0; id < 4; id++) await m.call(0, 'arm', { id, delay: delays[id] + (id === 3 ? 0 : 0) });
    for (let id = 0; id < 4; id++) await runsReach(m, id, 1);
    const order = [0, 1, 2, 3].sort((a, b) => get(m, a, F_ORDER) - get(m, b, F_ORDER));
    // Timers 1 and 3 have the same delay but may have been armed a jiffy apart: 1 first either way.
    expect(order).toEqual([1, 3, 2, 0]);
  });

  it('add_timer_on runs it on the given CPU', async () => {
    reset(m);
    await m.call(0, 'arm_on', { id: 5, delay: 2, cpu: 1 });
    expect(((await m.call(0, 'info', { id: 5 })) as { cpu: number }).cpu).toBe(1);
    await runsReach(m, 5, 1);
    expect(get(m, 5, F_CPU)).toBe(1);
  });

  it('T4: a callback may re-arm its own timer (6 runs from one arm and 5 re-arms)', async () => {
    reset(m);
    set(m, 6, F_REARM, 5);
    set(m, 6, F_REARM_DELAY, 1);
    await m.call(1, 'arm', { id: 6, delay: 1 });
    await runsReach(m, 6, 6);
    await quiet(m);
    expect(get(m, 6, F_RUNS)).toBe(6);
    expect(get(m, 6, F_CPU)).toBe(1);
    expect(get(m, 6, F_OVERLAPS) + get(m, 6, F_EARLY)).toBe(0);
  });

  it('T1: re-arming a running timer from another CPU does not move it off its base: no overlap', async () => {
    reset(m);
    await quiet(m);
    for (let round = 0; round < 3; round++) {
      set(m, 7, F_SPIN_US, 20_000);
      await m.call(0, 'arm', { id: 7, delay: 1 });
      await until('timer 7 inside', () => get(m, 7, F_INSIDE) === 1 || get(m, 7, F_RUNS) > 2 * round);
      set(m, 7, F_SPIN_US, 0);
      await m.call(1, 'arm', { id: 7, delay: 0 });
      await runsReach(m, 7, 2 * round + 2);
      await quiet(m);
    }
    expect(get(m, 7, F_OVERLAPS)).toBe(0);
  });

  it('T3: after del_timer_sync returns the callback is neither pending nor running, and does not run again', async () => {
    reset(m);
    await quiet(m);
    set(m, 2, F_SPIN_US, 5_000);
    set(m, 2, F_REARM, 1_000_000);
    set(m, 2, F_REARM_DELAY, 0);
    await m.call(0, 'arm', { id: 2, delay: 1 });
    for (let i = 0; i < 3; i++) {
      await until('timer 2 inside', () => get(m, 2, F_INSIDE) === 1);
      const peek = (await m.runTask(1, 'delSyncPeek', { id: 2 })) as {
        inside: number;
        pending: boolean;
        runs: number;
      };
      expect(peek.inside).toBe(0);
      expect(peek.pending).toBe(false);
      await new Promise((r) => setTimeout(r, 30));
      expect(get(m, 2, F_RUNS)).toBe(peek.runs);
      await m.call(0, 'arm', { id: 2, delay: 1 });
    }
    await m.runTask(1, 'delSyncPeek', { id: 2 });
    expect(get(m, 2, F_OVERLAPS)).toBe(0);
  });
});

describe('timers and CPU hot-unplug', () => {
  it('T5: pending timers of a CPU that goes offline migrate to a live CPU and run there, not early', async () => {
    const m = await boot({ cpus: 3, modules: [timersModule] });
    for (let id = 0; id < 4; id++) await m.call(2, 'arm', { id, delay: 15 + id });
    await m.cpuDown(2);
    expect(m.cpuWord(2, C_TIMER_HEAD)).toBe(0);
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
    await m.call(0, 'arm', { id: 4, delay: 50 });
    expect(await m.call(0, 'del', { id: 4 })).toBe(true);
    await m.shutdown();
    const text = ftraceText(m.traceRecords(), new TraceNames(m), 2);
    expect(text).toMatch(
      /\[001\] .{5} +\d+\.\d{6}: timer_start: timer=timer_fn#3 function=timer_fn expires=\d+ \[timeout=[12]\] cpu=1 idx=0 flags=/,
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
