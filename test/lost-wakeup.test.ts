/**
 * A sleeping tasklet wait ends by wake_up_var, as wait_var_event does in the kernel. Here a wait
 * spins first and its sleeps are bounded, so a clear with no wake-up would go unnoticed; the wait
 * reports it instead, as the hang it would be in the kernel, whether it had slept yet or not. A
 * wake-up that comes is never reported.
 */
import { describe, expect, it } from 'vitest';
import { boot, probeModule, until } from './helpers.ts';

async function bootProbe() {
  const log: string[] = [];
  const m = await boot({ cpus: 2, modules: [probeModule], onPrintk: (_cpu, _level, text) => log.push(text) });
  return { m, lines: (re: RegExp) => log.filter((text) => re.test(text)) };
}

const LOST =
  /^INFO: task \S+:\d+ would sleep forever in wait_var_event\(&t->state\) for tasklet \S+: its RUN bit cleared with no wake_up_var \(a lost wake-up\)$/;

describe('lost wake-ups', () => {
  it('tasklet_unlock_wait asleep on RUN: woken by tasklet_unlock, silent; RUN cleared with no wake-up, reported', async () => {
    const { m, lines } = await bootProbe();
    const id = 8;
    await m.call(1, 'trylock', { id });
    const woken = m.runTask(0, 'unlock_wait', { id });
    await new Promise((r) => setTimeout(r, 100)); // long enough to be asleep
    await m.call(1, 'unlock', { id });
    expect(await woken).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(lines(/would sleep forever/)).toEqual([]);

    await m.call(1, 'trylock', { id });
    const lost = m.runTask(0, 'unlock_wait', { id });
    await new Promise((r) => setTimeout(r, 100));
    await m.call(1, 'unlockNoWake', { id });
    expect(await lost).toBe(true); // the wait still ends: the run goes on, reported
    await until('the report', () => lines(/would sleep forever/).length === 1);
    expect(lines(/would sleep forever/)[0]).toMatch(LOST);
  });

  it('a wait that has looked but not yet slept: RUN cleared with no wake-up while it spins, reported', async () => {
    const { m, lines } = await bootProbe();
    const id = 9;
    await m.call(1, 'trylock', { id });
    const lost = m.runTask(0, 'unlock_wait', { id });
    await m.call(1, 'unlockNoWakeOnceLooked', { id, waiter: 0 });
    expect(await lost).toBe(true);
    await until('the report', () => lines(/would sleep forever/).length === 1);
    expect(lines(/would sleep forever/)[0]).toMatch(LOST);
  });
});
