/**
 * mod_timer moving a timer to this CPU's base keeps interrupts off between the two base locks
 * (TIMER_MIGRATING is set in between), as __mod_timer does: an interrupt of this CPU whose
 * handler mod_timers the same timer runs before or after the move, never inside it. With the
 * interrupt at every shared access of the move in turn, every round ends. (Found by a clean
 * free-running fuzz campaign: CPU1 spinning in hard-irq context, interrupts off, for ever.)
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boot } from './helpers.ts';

const timerIrq = fileURLToPath(new URL('./modules/timer-irq.ts', import.meta.url));

describe('mod_timer across bases, interrupted', () => {
  it('an interrupt at any access of the move sees the timer on one base or the other', async () => {
    const m = await boot({ modules: [timerIrq] });
    await m.call(0, 'arm');
    const { accesses } = (await m.runTask(1, 'migrateWithIrqAt', { at: 0 }, 3000)) as { accesses: number };
    expect(accesses).toBeGreaterThan(4);
    for (let at = 1; at <= accesses; at++) {
      await m.call(0, 'arm'); // back on CPU0's base
      const before = (await m.runTask(1, 'migrateWithIrqAt', { at: accesses + 1 }, 3000)) as {
        handled: number;
      };
      await m.call(0, 'arm');
      const round = (await m.runTask(1, 'migrateWithIrqAt', { at }, 3000)) as { handled: number };
      expect(round.handled, `interrupt at access ${at}`).toBeGreaterThanOrEqual(before.handled);
    }
  }, 60_000);
});
