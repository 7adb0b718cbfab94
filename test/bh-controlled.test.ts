/**
 * Timers and BH work in controlled mode: the same seed gives the same runs, in the same order,
 * on the same CPUs, at the same jiffies (the timer base, its lock and the BH pools are reached
 * only through the door, and their waits yield to the controlled scheduler).
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../machine/index.ts';
import { FIELDS as TIMER_FIELDS, F_RUNS as TIMER_RUNS } from './modules/timers-layout.ts';
import { FIELDS as WORK_FIELDS, F_RUNS as WORK_RUNS } from './modules/works-layout.ts';
import { timersModule } from './timer-scenarios.ts';
import { worksModule } from './work-scenarios.ts';

async function run(seed: number): Promise<{ timers: number[]; works: number[]; jiffies: number }> {
  const m = await Machine.boot({
    cpus: 2,
    modules: [timersModule, worksModule],
    controlled: { strategy: 'pct', seed },
    onPrintk: () => {},
  });
  try {
    await m.call(0, 'arm_many', { ids: [0, 1, 2], delays: [3, 1, 2] });
    await m.call(1, 'arm_many', { ids: [3, 4], delays: [2, 2] });
    await m.call(0, 'queueMany', [{ id: 0 }, { id: 1, hi: true }, { id: 2, cpu: 1 }]);
    await m.call(1, 'arm', { id: 0, delay: 1 }); // moves timer 0 to CPU1
    await m.runTask(0, 'delSyncPeek', { id: 2 });
    await m.sleep(100);
    return {
      timers: Array.from(m.sharedWords('timers')),
      works: Array.from(m.sharedWords('works')),
      jiffies: m.jiffies(),
    };
  } finally {
    await m.shutdown();
  }
}

describe('timers and BH work, controlled', () => {
  it('the same seed gives the same timer and work runs, twice', async () => {
    const first = await run(5);
    const second = await run(5);
    expect(second).toEqual(first);
    // Every timer not deleted ran, and every work item once.
    for (const id of [0, 1, 3, 4])
      expect(first.timers[id * TIMER_FIELDS + TIMER_RUNS], `timer ${id}`).toBeGreaterThanOrEqual(1);
    for (const id of [0, 1, 2]) expect(first.works[id * WORK_FIELDS + WORK_RUNS], `work ${id}`).toBe(1);
  }, 120_000);
});
