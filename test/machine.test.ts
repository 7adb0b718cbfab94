import { describe, expect, it } from 'vitest';
import { C_CURRENT_PID, C_STATE, CpuState } from '../shm/layout.ts';
import { boot, probe, until } from './helpers.ts';

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

  it('advances jiffies at HZ', async () => {
    const m = await boot({ hz: 1000 });
    const before = m.jiffies();
    await new Promise((r) => setTimeout(r, 100));
    const after = m.jiffies();
    expect(after - before).toBeGreaterThan(20);
    expect(after - before).toBeLessThan(400);
  });
});
