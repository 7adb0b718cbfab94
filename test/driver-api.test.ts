/**
 * The driver-facing API beyond tasklets, on two CPUs: completions (one waiter through per
 * complete(), all of them after complete_all, the timeout, might_sleep), disable_irq and
 * enable_irq (masked, waited for, resent, unbalanced), and the atomic bit operations.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMPLETE_ALL } from '../kernel/completion.ts';
import type { OopsReport } from '../kernel/oops.ts';
import { boot, sleep, until } from './helpers.ts';
import {
  D_COUNTER,
  D_DONE,
  D_FLAGS,
  D_IRQS,
  D_LEFT,
  D_LOCK,
  D_OVERLAPS,
  D_READY,
  D_SHARED_RUNS,
  D_WOKE,
  DAPI_IRQ,
  DAPI_SHARED_IRQ,
  F_HANDLER_IN,
  F_SHARED_INSIDE,
  MUTEX_ROUNDS,
} from './modules/driver-api-layout.ts';

const driverApiModule = fileURLToPath(new URL('./modules/driver-api.ts', import.meta.url));

async function bootDriverApi() {
  const log: string[] = [];
  const oopses: OopsReport[] = [];
  const m = await boot({
    cpus: 2,
    modules: [driverApiModule],
    onPrintk: (_cpu, _level, text) => log.push(text),
    onOops: (report) => oopses.push(report),
  });
  const words = m.sharedWords('dapi');
  const word = (at: number): number => Atomics.load(words, at);
  return { m, word, oopses, lines: (re: RegExp) => log.filter((text) => re.test(text)) };
}

describe('completions', () => {
  it('complete() from a tasklet on either CPU lets exactly one waiter through; complete_all lets every one', async () => {
    const { m, word } = await bootDriverApi();
    await m.startTask(0, 'waiter');
    await m.startTask(1, 'waiter');
    await sleep(100);
    expect(word(D_WOKE)).toBe(0);
    await m.call(1, 'completeFromTasklet');
    await until('one waiter through', () => word(D_WOKE) === 1);
    await sleep(200); // the other one stays asleep: the completion was taken
    expect([word(D_WOKE), word(D_DONE)]).toEqual([1, 0]);
    await m.call(0, 'completeFromTasklet');
    await until('the second waiter through', () => word(D_WOKE) === 2);
    await m.call(0, 'completeAll');
    await m.startTask(0, 'waiter');
    await m.startTask(1, 'waiter');
    await until('both later waiters through', () => word(D_WOKE) === 4);
    expect(word(D_DONE)).toBe(COMPLETE_ALL);
  });

  it('wait_for_completion_timeout: 0 when it times out, the jiffies left when completed', async () => {
    const { m, word } = await bootDriverApi();
    await m.startTask(0, 'timedWaiter', 5);
    await until('the timed-out waiter', () => word(D_WOKE) === 1);
    expect(word(D_LEFT)).toBe(0);
    await m.call(1, 'completeFromTasklet');
    await until('the completion', () => word(D_DONE) === 1);
    await m.startTask(0, 'timedWaiter', 1000);
    await until('the completed waiter', () => word(D_WOKE) === 2);
    expect(word(D_LEFT)).toBeGreaterThanOrEqual(1);
    expect(word(D_LEFT)).toBeLessThanOrEqual(1000);
    expect(word(D_DONE)).toBe(0);
  });

  it('waiting with softirqs off: "BUG: sleeping function called from invalid context", even when done', async () => {
    const { m, word, lines } = await bootDriverApi();
    await m.call(0, 'completeFromTasklet');
    await until('the completion', () => word(D_DONE) === 1);
    await m.runTask(0, 'waitAtomic');
    expect(word(D_WOKE)).toBe(1);
    const bugs = lines(/BUG: sleeping function called from invalid context/);
    expect(bugs).toHaveLength(1);
    expect(bugs[0]).toMatch(/\(wait_for_completion\)\nin_atomic\(\): 1, irqs_disabled\(\): 0/);
  });
});

describe('disable_irq and enable_irq', () => {
  it('mask the line on every CPU; the raise meanwhile is resent by the last enable_irq; one more warns', async () => {
    const { m, word, lines } = await bootDriverApi();
    await m.runTask(0, 'disabler');
    m.raiseIrq(1, DAPI_IRQ);
    await sleep(100);
    expect(word(D_IRQS)).toBe(0);
    await m.call(0, 'enable');
    await until('the resent interrupt', () => word(D_IRQS) === 1);
    m.raiseIrq(1, DAPI_IRQ);
    await until('an interrupt once enabled', () => word(D_IRQS) === 2);
    expect(lines(/Unbalanced enable/)).toEqual([]);
    await m.call(0, 'enable');
    await until('the warning', () => lines(/Unbalanced enable for IRQ 21/).length === 1);
    expect(lines(/Unbalanced enable for IRQ 21/)[0]).toMatch(/^------------\[ cut here \]/);
  });

  it('disable_irq returns only once the handler running on another CPU has finished', async () => {
    const { m, word } = await bootDriverApi();
    await m.call(0, 'slowHandler');
    m.raiseIrq(1, DAPI_IRQ);
    await until('the handler running on CPU1', () => (word(D_FLAGS) & (1 << F_HANDLER_IN)) !== 0);
    // The handler busy-waits 50 ms of machine time: a disable_irq that did not wait would see it unfinished.
    expect(await m.runTask(0, 'disabler')).toBe(true);
  });
});

describe('a machine-wide line', () => {
  it('runs its handler on one CPU at a time, however often both CPUs raise it', async () => {
    const { m, word, lines } = await bootDriverApi();
    const rounds = 200;
    await until('the module init requesting the line', () => word(D_READY) === 1);
    for (let r = 0; r < rounds; r++) {
      m.raiseIrq(0, DAPI_SHARED_IRQ);
      m.raiseIrq(1, DAPI_SHARED_IRQ);
      // At least one run after each round's raises (two raises may coalesce, as edges do).
      await until(`round ${r}`, () => word(D_SHARED_RUNS) > r);
    }
    expect(word(D_OVERLAPS)).toBe(0);
    expect(word(D_SHARED_RUNS)).toBeLessThanOrEqual(2 * rounds);
    expect(lines(/WARNING|BUG|No irq handler/)).toEqual([]);
  });

  it('a raise on another CPU while the handler runs is not lost: it runs again once it returns', async () => {
    const { m, word, lines } = await bootDriverApi();
    await until('the module init requesting the line', () => word(D_READY) === 1);
    await m.call(0, 'slowSharedHandler'); // 50 ms of machine time in the handler
    m.raiseIrq(0, DAPI_SHARED_IRQ);
    await until('the handler running on CPU0', () => (word(D_FLAGS) & (1 << F_SHARED_INSIDE)) !== 0);
    m.raiseIrq(1, DAPI_SHARED_IRQ);
    await until('the run for the second raise', () => word(D_SHARED_RUNS) === 2);
    expect(word(D_OVERLAPS)).toBe(0);
    expect(lines(/WARNING|BUG/)).toEqual([]);
  });
});

describe('mutexes', () => {
  it('serialize a read-modify-write of three tasks on two CPUs, sleeping inside it too: no increment is lost', async () => {
    const { m, word, lines } = await bootDriverApi();
    await Promise.all([
      m.startTask(0, 'mutexCount'),
      m.startTask(0, 'mutexCount'),
      m.startTask(1, 'mutexCount'),
    ]);
    await until(
      'every round',
      () => word(D_COUNTER) >= 3 * MUTEX_ROUNDS || lines(/WARNING|BUG/).length > 0,
      60_000,
    );
    await sleep(50);
    expect(word(D_COUNTER)).toBe(3 * MUTEX_ROUNDS);
    expect(word(D_LOCK)).toBe(0);
    expect(lines(/WARNING|BUG/)).toEqual([]);
  });

  it('an unlock by a task that does not hold it warns (and unlocks); locking with softirqs off is a BUG', async () => {
    const { m, word, lines } = await bootDriverApi();
    await m.runTask(0, 'mutexTake');
    expect(word(D_LOCK)).not.toBe(0);
    await m.runTask(1, 'mutexRelease');
    await until(
      'the warning',
      () => lines(/DEBUG_LOCKS_WARN_ON\(__owner_task\(owner\) != current\)/).length === 1,
    );
    expect(word(D_LOCK)).toBe(0);
    await m.runTask(1, 'mutexAtomic');
    const bugs = lines(/BUG: sleeping function called from invalid context/);
    expect(bugs).toHaveLength(1);
    expect(bugs[0]).toMatch(/\(mutex_lock\)/);
  });
});

describe('atomic bit operations on a field', () => {
  it('test_and_set_bit and test_and_clear_bit return the old bit; a bit past 31 is a RangeError', async () => {
    const { m } = await bootDriverApi();
    expect(await m.call(0, 'bits')).toEqual([false, true, true, true, false]);
    expect(await m.call(1, 'badBit')).toMatch(/^bit 32 of a struct dapi field: a field has bits 0 to 31$/);
  });
});

describe('WARN_ON, WARN_ON_ONCE, BUG_ON', () => {
  it('WARN_ON reports when its condition holds; WARN_ON_ONCE once per call site; BUG_ON oopses its context', async () => {
    const { m, oopses, lines } = await bootDriverApi();
    expect(await m.call(0, 'warnOn', false)).toBe(false);
    expect(await m.call(0, 'warnOn', true)).toBe(true);
    const warnings = (): string[] =>
      lines(
        /^------------\[ cut here \]------------\nWARNING: CPU: 0 PID: \d+ at test\/modules\/driver-api\.ts:\d+ /,
      );
    await until('the WARN_ON report', () => warnings().length === 1);
    expect(await m.call(0, 'warnOnOnce')).toBe(true);
    expect(await m.call(0, 'warnOnOnce')).toBe(true);
    await until('the WARN_ON_ONCE report', () => warnings().length === 2);
    await sleep(100);
    expect(warnings()).toHaveLength(2);
    await m.call(1, 'bugOn').catch(() => 'failed');
    await until('the oops', () => oopses.length === 1);
    expect(oopses[0].message).toMatch(/^KernelBug: kernel BUG at test\/modules\/driver-api\.ts:\d+!$/);
    expect(
      lines(/^------------\[ cut here \]------------\nkernel BUG at test\/modules\/driver-api\.ts:\d+!$/),
    ).toHaveLength(1);
  });
});
