/** The tasklet API, call by call, on a 2-CPU machine with the probe module. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../machine/index.ts';
import { boot, bootShared, pf, probeModule, probeWords, SCHED, setPf, sleep, until } from './helpers.ts';
import {
  CTX_INTERRUPT,
  CTX_SERVING,
  CTX_SOFTIRQ,
  F_DATA,
  F_DELAY_US,
  F_INSIDE,
  F_LAST_CPU,
  F_RUNS,
  PROBE_DISABLED,
  PROBE_OLD,
  PROBE_OLD_DISABLED,
  PROBES,
  W_BLOCK_CPU,
  W_BLOCK_CTX,
  W_BLOCK_PID,
  W_BLOCK_RUNS,
  W_DYN_DATA,
  W_DYN_RUNS,
  W_HOLDERS,
  W_RELEASE,
} from './modules/probe-layout.ts';

interface TState {
  state: number;
  count: number;
  useCallback: boolean;
  name: string;
}

/** Settles `p` into 'pending' if it has not settled within `ms`. */
async function settled<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, sleep(ms).then(() => 'pending' as const)]);
}

describe('tasklet API', () => {
  let m: Machine;
  const tstate = (id: number, cpu = 0) => m.call(cpu, 'tstate', { id }) as Promise<TState>;
  const runs = (id: number) => pf(m, id, F_RUNS);
  /** Starts the callback of `id` on CPU0 for `us` microseconds and waits until it is inside. */
  const runLong = async (id: number, us: number) => {
    setPf(m, id, F_DELAY_US, us);
    await m.call(0, 'schedule', { id });
    await until(`probe${id} running`, () => pf(m, id, F_INSIDE) !== 0);
    setPf(m, id, F_DELAY_US, 0);
  };

  beforeAll(async () => {
    m = await bootShared();
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('DECLARE_TASKLET: a static, enabled callback-form tasklet that runs when scheduled', async () => {
    expect(await tstate(0)).toEqual({ state: 0, count: 0, useCallback: true, name: 'probe0' });
    await m.call(1, 'schedule', { id: 0 });
    await until('probe0 ran', () => runs(0) === 1);
    expect(pf(m, 0, F_LAST_CPU)).toBe(1);
  });

  it('DECLARE_TASKLET_DISABLED: starts with count 1; scheduled, it waits queued for tasklet_enable', async () => {
    const id = PROBE_DISABLED;
    expect(await tstate(id)).toMatchObject({ count: 1, useCallback: true });
    await m.call(1, 'schedule', { id });
    await sleep(50);
    expect(runs(id)).toBe(0);
    expect((await tstate(id)).state & SCHED).toBe(SCHED);
    await m.call(1, 'enable', { id });
    await until('probe15 ran after enable', () => runs(id) === 1);
    expect(await tstate(id)).toMatchObject({ state: 0, count: 0 });
  });

  it('DECLARE_TASKLET_OLD and DECLARE_TASKLET_DISABLED_OLD: func form with data 0, count 0 / 1', async () => {
    expect(await tstate(PROBE_OLD)).toMatchObject({
      state: 0,
      count: 0,
      useCallback: false,
      name: 'probe16',
    });
    expect(await tstate(PROBE_OLD_DISABLED)).toMatchObject({ count: 1, useCallback: false, name: 'probe17' });
    setPf(m, PROBE_OLD, F_DATA, -1);
    await m.call(1, 'schedule', { id: PROBE_OLD });
    await until('probe16 ran', () => runs(PROBE_OLD) === 1);
    expect(pf(m, PROBE_OLD, F_DATA)).toBe(0);
    await m.call(1, 'schedule', { id: PROBE_OLD_DISABLED });
    await sleep(50);
    expect(runs(PROBE_OLD_DISABLED)).toBe(0);
    await m.call(0, 'enable', { id: PROBE_OLD_DISABLED });
    await until('probe17 ran', () => runs(PROBE_OLD_DISABLED) === 1);
    expect(pf(m, PROBE_OLD_DISABLED, F_DATA)).toBe(0);
  });

  it('tasklet_init: old func + data form (state 0, count 0); the func gets the data', async () => {
    const id = 14;
    await m.call(0, 'disable_nosync', { id });
    await m.call(0, 'init_func', { id });
    expect(await tstate(id)).toMatchObject({ state: 0, count: 0, useCallback: false });
    await m.call(1, 'schedule', { id });
    await until('probe14 ran', () => runs(id) === 1);
    expect(pf(m, id, F_DATA)).toBe(id);
  });

  it('tasklet_setup: callback form (state 0, count 0), resets a disabled tasklet', async () => {
    const id = 14;
    await m.call(0, 'disable_nosync', { id });
    await m.call(0, 'setup', { id });
    expect(await tstate(id)).toMatchObject({ state: 0, count: 0, useCallback: true });
    const before = runs(id);
    await m.call(1, 'schedule', { id });
    await until('probe14 ran', () => runs(id) === before + 1);
  });

  it('tasklet_schedule / tasklet_hi_schedule: run via TASKLET_SOFTIRQ / HI_SOFTIRQ on this CPU (/proc/softirqs)', async () => {
    const row = async (name: string, cpu: number) => {
      const line = (await m.readProc('/proc/softirqs'))
        .split('\n')
        .find((l) => l.trim().startsWith(`${name}:`))!;
      return Number(line.split(':')[1].trim().split(/\s+/)[cpu]);
    };
    const [hi0, tl0] = [await row('HI', 1), await row('TASKLET', 1)];
    await m.call(1, 'schedule', { id: 1, hi: true });
    await until('probe1 ran', () => runs(1) === 1);
    expect(await row('HI', 1)).toBeGreaterThan(hi0);
    await m.call(1, 'schedule', { id: 2 });
    await until('probe2 ran', () => runs(2) === 1);
    expect(await row('TASKLET', 1)).toBeGreaterThan(tl0);
  });

  it('tasklet_disable_nosync: returns while the callback still runs; count 1', async () => {
    const id = 3;
    // Long enough that a loaded host's call round trip still lands inside the callback.
    await runLong(id, 500_000);
    await m.call(1, 'disable_nosync', { id });
    expect(pf(m, id, F_INSIDE)).not.toBe(0);
    expect((await tstate(id, 1)).count).toBe(1);
    await until('run over', () => pf(m, id, F_INSIDE) === 0);
    await m.call(1, 'enable', { id });
    expect((await tstate(id, 1)).count).toBe(0);
  });

  it('tasklet_disable: sleeps until the callback is over (other CPU); count 1; tasklet_enable undoes it', async () => {
    const id = 4;
    await runLong(id, 40_000);
    const r = (await m.runTask(1, 'disablePeek', { id })) as { inside: number };
    expect(r.inside).toBe(0);
    expect((await tstate(id, 1)).count).toBe(1);
    await m.call(1, 'enable', { id });
    expect((await tstate(id, 1)).count).toBe(0);
  });

  it('tasklet_disable_in_atomic: spins (from hard-irq context) until the callback is over', async () => {
    const id = 5;
    await runLong(id, 40_000);
    expect(await m.call(1, 'disableInAtomicPeek', { id })).toBe(0);
    expect((await tstate(id, 1)).count).toBe(1);
    await m.call(1, 'enable', { id });
  });

  it('tasklet_kill: waits for the pending run, leaves state 0; the tasklet can be scheduled again', async () => {
    const id = 6;
    const w = probeWords(m);
    Atomics.store(w, W_RELEASE, 0);
    Atomics.store(w, W_HOLDERS, 0);
    const hold = m.runTask(1, 'hold', { ops: [{ id }] }); // queued on CPU1, which holds bh off
    await until('held', () => Atomics.load(w, W_HOLDERS) === 1);
    const kill = m.runTask(0, 'kill', { id });
    expect(await settled(kill, 100)).toBe('pending');
    Atomics.store(w, W_RELEASE, 1);
    await hold;
    await kill;
    expect(runs(id)).toBe(1);
    expect((await tstate(id)).state).toBe(0);
    await m.call(0, 'schedule', { id });
    await until('runs again', () => runs(id) === 2);
    await m.runTask(0, 'kill', { id }); // idle: returns at once
    expect((await tstate(id)).state).toBe(0);
  });

  it('tasklet_trylock / tasklet_unlock: RUN as a lock; a queued tasklet waits for it', async () => {
    const id = 7;
    expect(await m.call(1, 'trylock', { id })).toBe(true);
    expect(await m.call(0, 'trylock', { id })).toBe(false);
    expect((await tstate(id)).state).toBe(2);
    await m.call(0, 'schedule', { id });
    await sleep(50);
    expect(runs(id)).toBe(0);
    await m.call(1, 'unlock', { id });
    await until('ran after unlock', () => runs(id) === 1);
    expect(await m.call(1, 'trylock', { id })).toBe(true);
    await m.call(1, 'unlock', { id });
  });

  it('tasklet_unlock_wait (sleeps) and tasklet_unlock_spin_wait (spins) return when RUN clears', async () => {
    const id = 8;
    await m.call(1, 'trylock', { id });
    const sleeper = m.runTask(0, 'unlock_wait', { id });
    expect(await settled(sleeper, 100)).toBe('pending');
    await m.call(1, 'unlock', { id });
    expect(await sleeper).toBe(true);

    await m.call(0, 'trylock', { id });
    const spinner = m.call(1, 'unlock_spin_wait', { id });
    expect(await settled(spinner, 100)).toBe('pending');
    await m.call(0, 'unlock', { id });
    await spinner;
    expect((await tstate(id)).state).toBe(0);
  });

  it('local_bh_disable/enable: nothing runs inside (nested), the outermost enable runs it', async () => {
    const r = await m.runTask(0, 'bhSection', { id: 9 });
    expect(r).toEqual({ runsInside: 0, runsInner: 0, runsAfter: 1 });
  });

  it('local_irq_save/restore: an irq raised meanwhile waits; restore takes it and its softirq runs', async () => {
    const r = await m.runTask(1, 'irqSection', { id: 10 });
    expect(r).toEqual({
      flags: 0,
      disabledInside: true,
      handledInside: 0,
      runsInside: 0,
      handledAfter: 1,
      runsAfter: 1,
      disabledAfter: false,
    });
    // Inside a hard irq interrupts are already off: save/restore keeps them off.
    await m.call(1, 'scheduleIrqsOff', { id: 10 });
    await until('ran again', () => runs(10) === 2);
  });

  it('raise_softirq: from hard irq it runs on irq exit; from process context ksoftirqd runs it', async () => {
    const w = probeWords(m);
    const n = Atomics.load(w, W_BLOCK_RUNS);
    await m.call(1, 'raiseBlock');
    await until('BLOCK ran', () => Atomics.load(w, W_BLOCK_RUNS) === n + 1);
    expect(Atomics.load(w, W_BLOCK_CPU)).toBe(1);
    expect(Atomics.load(w, W_BLOCK_PID)).toBe(0); // the interrupted idle task
    expect(Atomics.load(w, W_BLOCK_CTX)).toBe(CTX_SERVING | CTX_INTERRUPT | CTX_SOFTIRQ);
    await m.runTask(0, 'raiseBlock');
    await until('BLOCK ran again', () => Atomics.load(w, W_BLOCK_RUNS) === n + 2);
    expect(Atomics.load(w, W_BLOCK_CPU)).toBe(0);
    expect(Atomics.load(w, W_BLOCK_PID)).toBe(10); // ksoftirqd/0
    const softirqs = await m.readProc('/proc/softirqs');
    expect(softirqs).toMatch(/^ {7}BLOCK: +[1-9]\d* +[1-9]\d*$/m);
  });
});

describe('tasklet_alloc', () => {
  it('allocates run-time tasklets until the table is full (TaskletTableFullError), reuses freed slots', async () => {
    const m = await boot({ maxTasklets: PROBES + 3 });
    const r = (await m.call(0, 'alloc', { n: 5 })) as {
      ids: number[];
      error: { name: string; message: string };
    };
    expect(r.ids).toEqual([PROBES, PROBES + 1, PROBES + 2]);
    expect(r.error.name).toBe('TaskletTableFullError');
    expect(r.error.message).toMatch(/tasklet table full: all 21 slots are in use/);
    await m.call(0, 'free', [PROBES + 1]);
    const again = (await m.call(1, 'alloc', { n: 1 })) as { ids: number[]; error: null };
    expect(again).toEqual({ ids: [PROBES + 1], error: null });
    // A run-time tasklet with the old func form and data.
    await m.call(1, 'initDyn', { id: PROBES + 1, data: 77 });
    await m.call(1, 'schedule', { id: PROBES + 1 });
    const w = probeWords(m);
    await until('dyn ran', () => Atomics.load(w, W_DYN_RUNS) === 1);
    expect(Atomics.load(w, W_DYN_DATA)).toBe(77);
  });

  it('a table smaller than the static tasklets fails at boot', async () => {
    await expect(
      Machine.boot({ cpus: 1, modules: [probeModule], maxTasklets: 4, onPrintk: () => {} }),
    ).rejects.toThrow(/modules declare 18 tasklets but the table has 4 slots/);
  });
});
