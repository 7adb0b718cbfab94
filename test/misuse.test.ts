/**
 * Misuse: the kernel's warnings for API abuse, guarantee 12 (a queued tasklet without SCHED is
 * skipped with one warning), kernel calls from the controller thread, and the Machine API used
 * wrongly (a bad irq line or CPU, a call after shutdown, watchdog options out of range). Each
 * ends in a clear error naming what to do instead, never a hang.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  tasklet_disable,
  tasklet_disable_in_atomic,
  tasklet_disable_nosync,
  tasklet_enable,
  tasklet_from_id,
  tasklet_hi_schedule,
  tasklet_kill,
  tasklet_schedule,
  tasklet_unlock_spin_wait,
  tasklet_unlock_wait,
} from '../kernel/index.ts';
import { NotOnCpuError } from '../kernel/percpu.ts';
import { type Machine, MachineError } from '../machine/index.ts';
import { boot, bootShared, pf, probeWords, SCHED, sleep, taskletWord, until } from './helpers.ts';
import { F_RUNS, W_DYN_RUNS, W_HOLDERS, W_RELEASE } from './modules/probe-layout.ts';

interface Line {
  cpu: number;
  level: string;
  text: string;
}

describe('misuse warnings', () => {
  let m: Machine;
  const log: Line[] = [];
  const lines = (re: RegExp) => log.filter((l) => re.test(l.text));

  beforeAll(async () => {
    m = await bootShared({ onPrintk: (cpu, level, text) => log.push({ cpu, level, text }) });
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('G12 a queued tasklet found without SCHED (tasklet_init on it): one warning, callback skipped', async () => {
    const warnings = m.warnings();
    await m.call(1, 'scheduleThenInit', { id: 1 });
    await until('warning', () => lines(/tasklet SCHED state not set/).length === 1);
    await sleep(50);
    expect(pf(m, 1, F_RUNS)).toBe(0);
    expect(taskletWord(m, 1).state).toBe(0);
    expect(m.warnings()).toBe(warnings + 1);
    const [warn] = lines(/tasklet SCHED state not set/);
    expect(warn).toMatchObject({ cpu: 1, level: 'warning' });
    expect(warn.text).toMatch(/tasklet SCHED state not set: func probe_func\nWARNING: CPU: 1 PID: \d+ at /);
    // WARN_ONCE: a second case is skipped as well, silently.
    await m.call(0, 'scheduleThenInit', { id: 2 });
    await sleep(50);
    expect(pf(m, 2, F_RUNS)).toBe(0);
    expect(lines(/tasklet SCHED state not set/)).toHaveLength(1);
    expect(m.warnings()).toBe(warnings + 1);
    // It is an ordinary tasklet again afterwards.
    await m.call(1, 'schedule', { id: 1 });
    await until('runs normally', () => pf(m, 1, F_RUNS) === 1);
  });

  it('tasklet_kill from hard-irq context: "softirq: Attempt to kill tasklet from interrupt", and might_sleep reports though no wait is needed', async () => {
    const bugs = lines(/BUG: sleeping function/).length;
    await m.call(1, 'kill', { id: 3 });
    const [notice] = lines(/Attempt to kill tasklet from interrupt/);
    expect(notice).toMatchObject({
      cpu: 1,
      level: 'notice',
      text: 'softirq: Attempt to kill tasklet from interrupt',
    });
    expect(lines(/BUG: sleeping function/)).toHaveLength(bugs + 1);
    expect(lines(/BUG: sleeping function/).at(-1)!.text).toMatch(
      /\(tasklet_kill\)\nin_atomic\(\): 1, irqs_disabled\(\): 1/,
    );
    expect(taskletWord(m, 3).state).toBe(0);
  });

  it('unbalanced tasklet_enable: the count goes to -1 as in the kernel (warned once), the tasklet never runs until a disable', async () => {
    const warnings = m.warnings();
    await m.call(0, 'enable', { id: 4 });
    expect(taskletWord(m, 4).count).toBe(-1);
    expect(m.warnings()).toBe(warnings + 1);
    expect(lines(/unbalanced enable/)).toHaveLength(1);
    expect(lines(/unbalanced enable/)[0].text).toMatch(/probe4 was not disabled/);
    await m.call(0, 'schedule', { id: 4 });
    await sleep(30);
    expect(pf(m, 4, F_RUNS)).toBe(0); // requeued by every pass: count != 0
    expect(taskletWord(m, 4).state & SCHED).toBe(SCHED);
    await m.call(0, 'disable_nosync', { id: 4 });
    await until('runs once the count is back at 0', () => pf(m, 4, F_RUNS) === 1);
    await m.call(0, 'enable', { id: 4 });
    expect(taskletWord(m, 4).count).toBe(-1);
    expect(m.warnings()).toBe(warnings + 1); // WARN_ONCE: the site warned already
    await m.call(0, 'disable_nosync', { id: 4 });
    expect(taskletWord(m, 4).count).toBe(0);
  });

  it('tasklet_schedule on a never-initialised tasklet warns, on a freed one is a KASAN use-after-free; neither runs', async () => {
    const { ids } = (await m.call(0, 'alloc', { n: 2 })) as { ids: number[] };
    const [uninit, freed] = ids;
    const warnings = m.warnings();
    await m.call(1, 'schedule', { id: uninit });
    expect(taskletWord(m, uninit).state).toBe(0);
    expect(m.warnings()).toBe(warnings + 1);
    expect(lines(/tasklet_schedule: tasklet #\d+ was never initialised/)).toHaveLength(1);
    await m.call(0, 'initDyn', { id: freed, data: 1 });
    await m.call(0, 'free', [freed]);
    await m.call(1, 'schedule', { id: freed });
    await m.call(1, 'schedule', { id: freed, hi: true });
    expect(taskletWord(m, freed).state).toBe(0);
    await sleep(50);
    expect(Atomics.load(probeWords(m), W_DYN_RUNS)).toBe(0); // neither ran
    expect(lines(/^=+\nBUG: KASAN: use-after-free in tasklet_schedule\nWrite of size 4 /)).toHaveLength(1);
    expect(lines(/^=+\nBUG: KASAN: use-after-free in tasklet_hi_schedule\n/)).toHaveLength(1);
    expect(m.warnings()).toBe(warnings + 3); // the WARN_ONCE and the two KASAN reports
  });

  it('tasklet_disable from atomic context while it runs: "BUG: sleeping function called from invalid context", then spins', async () => {
    const id = 5;
    expect(await m.call(1, 'trylock', { id })).toBe(true); // RUN held: disable must wait
    const before = lines(/BUG: sleeping function called from invalid context/).length;
    const disable = m.call(0, 'disable', { id });
    try {
      await until(
        'BUG line',
        () => lines(/BUG: sleeping function called from invalid context/).length === before + 1,
      );
      const bug = lines(/BUG: sleeping function called from invalid context/).at(-1)!;
      expect(bug).toMatchObject({ cpu: 0, level: 'err' });
      expect(bug.text).toMatch(
        /\((tasklet_disable|tasklet_unlock_wait)\)\nin_atomic\(\): 1, irqs_disabled\(\): 1, non_block: 0, pid: 0, name: swapper\/0/,
      );
    } finally {
      await m.call(1, 'unlock', { id });
    }
    await disable;
    expect(taskletWord(m, id).count).toBe(1);
    await m.call(0, 'enable', { id });
  });

  it('tasklet_kill from atomic context on a scheduled tasklet: notice, BUG line, then it waits for the run', async () => {
    const id = 6;
    const w = probeWords(m);
    Atomics.store(w, W_RELEASE, 0);
    Atomics.store(w, W_HOLDERS, 0);
    const hold = m.runTask(1, 'hold', { ops: [{ id }] });
    await until('held', () => Atomics.load(w, W_HOLDERS) === 1);
    // The holder counts itself in before it schedules: wait for the schedule, which stays queued.
    await until('scheduled', () => (taskletWord(m, id).state & SCHED) === SCHED);
    const before = lines(/BUG: sleeping function/).length;
    const notices = lines(/Attempt to kill tasklet from interrupt/).length;
    const kill = m.call(0, 'kill', { id });
    try {
      await until('BUG line for kill', () => lines(/BUG: sleeping function/).length === before + 1);
      expect(lines(/BUG: sleeping function/).at(-1)!.text).toMatch(/\(tasklet_kill\)/);
      expect(lines(/Attempt to kill tasklet from interrupt/)).toHaveLength(notices + 1);
    } finally {
      Atomics.store(w, W_RELEASE, 1);
    }
    await hold;
    await kill;
    expect(pf(m, id, F_RUNS)).toBe(1);
    expect(taskletWord(m, id).state).toBe(0);
  });

  it('no stray oopses or faults', () => {
    expect(m.oopsCount()).toBe(0);
    expect(m.faults).toEqual([]);
  });
});

describe('kernel calls from the controller thread', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await bootShared({ cpus: 1 });
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('throw NotOnCpuError naming the alternative (a module on a CPU, or the Machine API)', () => {
    const t = tasklet_from_id(0);
    const calls: [string, () => void][] = [
      ['tasklet_schedule', () => tasklet_schedule(t)],
      ['tasklet_hi_schedule', () => tasklet_hi_schedule(t)],
      ['tasklet_disable_nosync', () => tasklet_disable_nosync(t)],
      ['tasklet_disable', () => tasklet_disable(t)],
      ['tasklet_enable', () => tasklet_enable(t)],
      ['tasklet_kill', () => tasklet_kill(t)],
      ['tasklet_unlock_wait', () => tasklet_unlock_wait(t)],
      ['tasklet_unlock_spin_wait', () => tasklet_unlock_spin_wait(t)],
    ];
    for (const [name, call] of calls) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(NotOnCpuError);
      expect((error as Error).name).toBe('NotOnCpuError');
      expect((error as Error).message).toContain(
        `${name}() needs a CPU context and this is the controller thread`,
      );
      expect((error as Error).message).toMatch(/module running on a CPU.*machine\.raiseIrq/);
    }
    expect(taskletWord(m, 0)).toEqual({ state: 0, count: 0 });
  });

  it('tasklet_disable_in_atomic from the controller thread: NotOnCpuError naming the alternative, count untouched', () => {
    expect(() => tasklet_disable_in_atomic(tasklet_from_id(0))).toThrow(NotOnCpuError);
    expect(() => tasklet_disable_in_atomic(tasklet_from_id(0))).toThrow(
      /tasklet_disable_in_atomic\(\) needs a CPU context and this is the controller thread; .*module running on a CPU/,
    );
    expect(taskletWord(m, 0).count).toBe(0);
  });
});

describe('the Machine API used wrongly', () => {
  it('rejects a bad irq line or CPU, and any use after shutdown, with a MachineError', async () => {
    const m = await boot({ cpus: 2 });
    expect(() => m.raiseIrq(0, 99)).toThrow(/no irq 99: lines are 0-31/);
    expect(() => m.raiseIrq(5, 2)).toThrow(/no CPU 5: this machine has CPUs 0-1/);
    await expect(m.call(0, 'no_such_call')).rejects.toThrow(/no module defines a call named 'no_such_call'/);
    await m.shutdown();
    // call() checks synchronously: it throws rather than returning a rejected promise.
    await expect(m.call(0, 'get', { id: 0 })).rejects.toThrow(MachineError);
    expect(() => m.raiseIrq(0, 2)).toThrow(/the machine has been shut down/);
    await m.shutdown(); // twice is fine
    expect(m.faults).toEqual([]);
  });

  it('watchdog options out of range are rejected before any CPU starts', async () => {
    await expect(boot({ watchdogThresh: -1 })).rejects.toThrow(
      /watchdogThresh must be an integer from 0 to 3600, got -1/,
    );
    await expect(boot({ hungTaskTimeout: 1.5 })).rejects.toThrow(/hungTaskTimeout must be an integer/);
  });
});
