/**
 * The machine itself: N CPU workers boot, run a tasklet and keep time; CPU hotplug moves a dead
 * CPU's queued tasklets to a live one (takeover_tasklets) and brings the CPU back.
 */
import { describe, expect, it } from 'vitest';
import { C_CURRENT_PID, C_STATE, CpuState } from '../shm/layout.ts';
import { auditQueues, boot, pf, probe, SCHED, sleep, taskletWord, until } from './helpers.ts';
import { F_CPU_MASK, F_LAST_CPU, F_RUNS } from './modules/probe-layout.ts';

describe('machine', () => {
  it('boots N CPU workers that all come online, and shuts them down', async () => {
    const m = await boot({ cpus: 3 });
    expect(m.onlineCpus()).toEqual([0, 1, 2]);
    for (let cpu = 0; cpu < 3; cpu++) expect(m.cpuWord(cpu, C_STATE)).toBe(CpuState.Online);
    await m.shutdown();
    expect(m.running).toBe(false);
  });

  it('runs a tasklet scheduled from an interrupt on the scheduling CPU', async () => {
    const m = await boot();
    await m.call(1, 'schedule', { id: 3 });
    await until('probe3 ran and went idle', async () => {
      const s = await probe(m, 3);
      return s.runs === 1 && s.state === 0;
    });
    const s = await probe(m, 3);
    expect(s.lastCpu).toBe(1);
    expect(s.state).toBe(0);
    expect(m.cpuWord(1, C_CURRENT_PID)).toBeGreaterThanOrEqual(0);
  });

  it('runs a task started from an interrupt on an idle CPU at once, not on its next tick', async () => {
    const m = await boot({ hz: 10 }); // a tick every 100 ms
    const before = m.jiffies();
    // Each start lands in the function-call interrupt of an idle CPU: without wake_up_new_task's
    // resched the CPU sleeps on into its next tick first, and ten runs wait for several ticks.
    for (let i = 0; i < 10; i++) await m.runTask(1, 'kill', { id: 3 });
    expect(m.jiffies() - before).toBeLessThanOrEqual(2);
  });

  it('advances jiffies at HZ', async () => {
    const m = await boot({ hz: 1000 });
    const before = m.jiffies();
    await new Promise((r) => setTimeout(r, 100));
    const after = m.jiffies();
    expect(after - before).toBeGreaterThan(20);
    expect(after - before).toBeLessThan(400);
  });
});

describe('hotplug', () => {
  it('takes CPU1 down with disabled tasklets queued: CPU0 adopts them, runs them once enabled; CPU1 comes back', async () => {
    const m = await boot({ cpus: 2 });
    const plan = [
      { id: 1, hi: false },
      { id: 2, hi: true },
      { id: 3, hi: false },
    ];
    for (const { id } of plan) await m.call(1, 'disable_nosync', { id });
    await m.call(1, 'scheduleMany', plan);
    await sleep(30);
    for (const { id } of plan) expect(taskletWord(m, id).state & SCHED).toBe(SCHED);

    await m.cpuDown(1);
    expect(m.onlineCpus()).toEqual([0]);
    expect(m.cpuWord(1, C_STATE)).toBe(CpuState.Dead);
    await expect(m.cpuDown(0)).rejects.toThrow(/last online CPU/);
    await expect(m.call(1, 'schedule', { id: 4 })).rejects.toThrow(/CPU1 is offline/);

    for (const { id } of plan) await m.call(0, 'enable', { id });
    await until('adopted tasklets ran', () => plan.every(({ id }) => pf(m, id, F_RUNS) === 1));
    for (const { id } of plan) {
      expect(pf(m, id, F_LAST_CPU)).toBe(0);
      expect(pf(m, id, F_CPU_MASK)).toBe(0b01);
      expect(taskletWord(m, id).state).toBe(0);
    }
    await until('queues empty', () => auditQueues(m).queues.every((q) => q.vec.length + q.hi.length === 0));
    expect(auditQueues(m, [0]).problems).toEqual([]);

    await m.cpuUp(1);
    expect(m.onlineCpus()).toEqual([0, 1]);
    await m.call(1, 'schedule', { id: 4 });
    await m.call(1, 'schedule', { id: 5, hi: true });
    await until('CPU1 runs tasklets again', () => pf(m, 4, F_RUNS) === 1 && pf(m, 5, F_RUNS) === 1);
    expect(pf(m, 4, F_LAST_CPU)).toBe(1);
    expect(pf(m, 5, F_LAST_CPU)).toBe(1);
  });

  it('takes CPU0 down while CPU0 has queued tasklets: CPU1 adopts them', async () => {
    const m = await boot({ cpus: 2 });
    await m.call(0, 'disable_nosync', { id: 6 });
    await m.call(0, 'schedule', { id: 6 });
    await m.cpuDown(0);
    expect(m.onlineCpus()).toEqual([1]);
    await m.call(1, 'enable', { id: 6 });
    await until('adopted tasklet ran', () => pf(m, 6, F_RUNS) === 1);
    expect(pf(m, 6, F_LAST_CPU)).toBe(1);
    await m.cpuUp(0);
    await m.call(0, 'schedule', { id: 7 });
    await until('CPU0 back', () => pf(m, 7, F_RUNS) === 1);
    expect(pf(m, 7, F_LAST_CPU)).toBe(0);
  });
});
