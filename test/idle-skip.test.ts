/**
 * Idle-time skipping (Machine.skipIdleTime, kernel/idle-skip.ts): while every online CPU only
 * waits for the clock, the clock jumps to the next deadline; while any CPU is busy it keeps the
 * host's pace; timers never fire early for it. Counts of skips and lower bounds on time are
 * asserted, never speed.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../machine/index.ts';
import { until } from './helpers.ts';
import type { Elapsed } from './modules/clock-probe.ts';
import { F_EARLY, F_RUNS } from './modules/timers-layout.ts';
import { get, reset, timersModule } from './timer-scenarios.ts';

const clockProbe = fileURLToPath(new URL('./modules/clock-probe.ts', import.meta.url));
const HZ = 1000;

describe('idle-time skipping, free-running', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ cpus: 2, hz: HZ, modules: [timersModule, clockProbe], onPrintk: () => {} });
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('is off unless asked for: an idle machine keeps the host clock', async () => {
    const before = m.idleSkips();
    await new Promise((r) => setTimeout(r, 30));
    expect(m.idleSkips()).toEqual(before);
  });

  it('skips the idle wait for a timer far ahead, which still fires no earlier than its expiry', async () => {
    reset(m);
    m.skipIdleTime(true);
    try {
      const skips = m.idleSkips();
      const from = m.jiffies();
      expect(await m.call(0, 'arm', { id: 2, delay: 400 })).toBe(false);
      await until('the timer ran', () => get(m, 2, F_RUNS) === 1);
      expect(get(m, 2, F_EARLY)).toBe(0);
      expect(m.jiffies() - from).toBeGreaterThanOrEqual(400);
      expect(m.idleSkips().count).toBeGreaterThan(skips.count);
      expect(m.idleSkips().ms).toBeGreaterThan(skips.ms);
    } finally {
      m.skipIdleTime(false);
    }
  });

  it('skips a udelay while the other CPU idles, and the udelay still lasts its machine time', async () => {
    m.skipIdleTime(true);
    try {
      const skips = m.idleSkips();
      const elapsed = (await m.runTask(1, 'udelay', 100_000)) as Elapsed;
      expect(elapsed.machineMs).toBeGreaterThanOrEqual(100);
      expect(m.idleSkips().count).toBeGreaterThan(skips.count);
      expect(m.idleSkips().ms).toBeGreaterThan(skips.ms);
    } finally {
      m.skipIdleTime(false);
    }
  });

  it('goes on with a CPU offline: a parked CPU does not hold the clock', async () => {
    reset(m);
    await m.cpuDown(1);
    m.skipIdleTime(true);
    try {
      const skips = m.idleSkips();
      expect(await m.call(0, 'arm', { id: 3, delay: 200 })).toBe(false);
      await until('the timer ran', () => get(m, 3, F_RUNS) === 1);
      expect(get(m, 3, F_EARLY)).toBe(0);
      expect(m.idleSkips().count).toBeGreaterThan(skips.count);
    } finally {
      m.skipIdleTime(false);
      await m.cpuUp(1);
    }
  });

  it('never skips while a CPU is busy: a spin keeps the machine clock at the host pace', async () => {
    m.skipIdleTime(true);
    try {
      const elapsed = (await m.runTask(1, 'spin', 40)) as Elapsed;
      // The other CPU idles all along; with the spinner counted as waiting the clock would jump
      // a tick per skip and run far ahead of the 40 ms. Rounding and one tick are allowed.
      expect(elapsed.machineMs).toBeLessThan(elapsed.realMs + 1000 / HZ + 0.5);
    } finally {
      m.skipIdleTime(false);
    }
  });
});

describe('idle-time skipping, controlled', () => {
  it('leaves the virtual clock to the controller', async () => {
    const m = await Machine.boot({
      cpus: 2,
      hz: HZ,
      modules: [clockProbe],
      controlled: { strategy: 'pct', seed: 1 },
    });
    try {
      m.skipIdleTime(true);
      const elapsed = (await m.runTask(1, 'udelay', 2000)) as Elapsed;
      expect(elapsed.machineMs).toBeGreaterThanOrEqual(2);
      expect(m.idleSkips()).toEqual({ count: 0, ms: 0 });
    } finally {
      await m.shutdown();
    }
  });
});
