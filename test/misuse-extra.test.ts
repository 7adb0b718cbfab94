/**
 * Misuse not covered by misuse.test.ts: the atomic-context disable from the controller thread,
 * and the Machine API used wrongly (a bad irq line or CPU, a call after shutdown). Each ends in
 * a clear error naming what to do instead, never a hang.
 */
import { describe, expect, it } from 'vitest';
import { tasklet_disable_in_atomic, tasklet_from_id } from '../kernel/index.ts';
import { NotOnCpuError } from '../kernel/percpu.ts';
import { MachineError } from '../machine/index.ts';
import { boot, taskletWord } from './helpers.ts';

describe('misuse, extra', () => {
  it('tasklet_disable_in_atomic from the controller thread: NotOnCpuError naming the alternative, count untouched', async () => {
    const m = await boot({ cpus: 1 });
    expect(() => tasklet_disable_in_atomic(tasklet_from_id(0))).toThrow(NotOnCpuError);
    expect(() => tasklet_disable_in_atomic(tasklet_from_id(0))).toThrow(
      /tasklet_disable_in_atomic\(\) needs a CPU context and this is the controller thread; .*module running on a CPU/,
    );
    expect(taskletWord(m, 0).count).toBe(0);
  });

  it('the Machine API rejects a bad irq line or CPU, and any use after shutdown, with a MachineError', async () => {
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
