/**
 * Spinlocks and lockdep: mutual exclusion under real parallelism, and each report the kernel
 * makes for a misuse, with both call sites, once. One machine per test: a misuse leaves state.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boot, until } from './helpers.ts';
import { ROUNDS, W_COUNTER, W_IRQ_RUNS, W_ROUNDS_DONE } from './modules/locks-layout.ts';

const locksModule = fileURLToPath(new URL('./modules/locks.ts', import.meta.url));

async function bootLocks(options: Parameters<typeof boot>[0] = {}) {
  const log: { cpu: number; level: string; text: string }[] = [];
  const m = await boot({
    cpus: 2,
    modules: [locksModule],
    onPrintk: (cpu, level, text) => log.push({ cpu, level, text }),
    ...options,
  });
  return { m, lines: (re: RegExp) => log.filter((l) => re.test(l.text)) };
}

describe('spinlocks', () => {
  it('serialize a read-modify-write on two CPUs at once: no increment is lost', async () => {
    const { m, lines } = await bootLocks();
    const words = m.sharedWords('locks');
    await Promise.all([m.startTask(0, 'count'), m.startTask(1, 'count')]);
    await until('both CPUs done', () => Atomics.load(words, W_ROUNDS_DONE) === 2, 30_000);
    expect(Atomics.load(words, W_COUNTER)).toBe(2 * ROUNDS);
    expect(lines(/WARNING|BUG/)).toEqual([]);
  });

  it('a lock used before spin_lock_init: "BUG: spinlock bad magic", then fine once initialised', async () => {
    const { m, lines } = await bootLocks();
    await m.runTask(0, 'uninitialised');
    const bugs = lines(/BUG: spinlock bad magic/);
    expect(bugs).toHaveLength(1);
    expect(bugs[0].text).toMatch(
      /^BUG: spinlock bad magic on CPU#0, \S+\/\d+\n lock: dev->lock, \.magic: 00000000, /,
    );
  });

  it('unlocked by a CPU that does not hold it: "BUG: spinlock wrong owner"', async () => {
    const { m, lines } = await bootLocks();
    await m.runTask(0, 'takeOwned');
    await m.call(1, 'releaseOwned');
    await until('the report', () => lines(/BUG: spinlock wrong owner on CPU#1/).length === 1);
  });

  it('a sleeping wait with a spinlock held: "BUG: sleeping function called from invalid context"', async () => {
    const { m, lines } = await bootLocks();
    await m.runTask(0, 'sleepLocked');
    expect(lines(/BUG: sleeping function called from invalid context/)).toHaveLength(1);
    expect(lines(/in_atomic\(\): 1, irqs_disabled\(\): 0/)).toHaveLength(1);
  });
});

describe('lockdep', () => {
  it('a lock taken in a tasklet and with softirqs on elsewhere: inconsistent {SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W}; _bh is clean', async () => {
    const { m, lines } = await bootLocks();
    await m.runTask(0, 'bhUsers');
    await until('the report', () => lines(/inconsistent lock state/).length > 0);
    await new Promise((r) => setTimeout(r, 50));
    const reports = lines(/inconsistent lock state/);
    expect(reports).toHaveLength(1); // bh_lock only: bh_safe_lock was taken with _bh
    expect(reports[0].text).toMatch(
      /WARNING: inconsistent lock state\n-+\ninconsistent \{SOFTIRQ-ON-W\} -> \{IN-SOFTIRQ-W\} usage\.\n\S+ \[HC0\[0\]:SC1\[1\]:HE1:SE0\] takes:\n\(bh_lock\), at: locks_bh_tasklet \(test\/modules\/locks\.ts:\d+\)\n\{SOFTIRQ-ON-W\} state was registered at:\n {2}bhUsers \(test\/modules\/locks\.ts:\d+\)/,
    );
    expect(m.warnings()).toBe(1);
  });

  it('a lock taken in a hard irq and with irqs on elsewhere: inconsistent {HARDIRQ-ON-W} -> {IN-HARDIRQ-W}', async () => {
    const { m, lines } = await bootLocks();
    await m.runTask(1, 'irqUser');
    await until('irq ran', () => Atomics.load(m.sharedWords('locks'), W_IRQ_RUNS) === 1);
    // The report was printed before the handler counted its run; the line may still be on its way.
    await until('the report', () => lines(/inconsistent lock state/).length > 0);
    const reports = lines(/inconsistent lock state/);
    expect(reports).toHaveLength(1);
    expect(reports[0].text).toMatch(/inconsistent \{HARDIRQ-ON-W\} -> \{IN-HARDIRQ-W\} usage\./);
    expect(reports[0].text).toMatch(/\(irq_lock\), at: locks_interrupt \(test\/modules\/locks\.ts:\d+\)/);
    expect(reports[0].text).toMatch(/\{HARDIRQ-ON-W\} state was registered at:\n {2}irqUser /);
  });

  it('irqsave users and the irq handler: no report', async () => {
    const { m, lines } = await bootLocks();
    await m.runTask(1, 'irqSafeUser');
    await until('irq ran', () => Atomics.load(m.sharedWords('locks'), W_IRQ_RUNS) === 1);
    expect(lines(/inconsistent lock state/)).toEqual([]);
    expect(m.warnings()).toBe(0);
  });

  it('A then B, later B then A: possible circular locking dependency, with the chain and both sites', async () => {
    const { m, lines } = await bootLocks();
    await m.runTask(0, 'orderAB');
    expect(lines(/circular/)).toEqual([]);
    await m.runTask(1, 'orderBA');
    const [report] = lines(/possible circular locking dependency detected/);
    expect(report.cpu).toBe(1);
    expect(report.text).toMatch(
      /is trying to acquire lock:\n\(lock_a\), at: orderBA \(test\/modules\/locks\.ts:\d+\)/,
    );
    expect(report.text).toMatch(/but task is already holding lock:\n\(lock_b\), at: orderBA /);
    expect(report.text).toMatch(/-> #0 \(lock_b\):\n {7}orderAB \(test\/modules\/locks\.ts:\d+\)/);
    await m.runTask(1, 'orderBA');
    expect(lines(/possible circular locking dependency detected/)).toHaveLength(1); // once
  });

  it('taking a held lock again: possible recursive locking, BUG: spinlock recursion, then a soft lockup', async () => {
    const faults: string[] = [];
    const { m, lines } = await bootLocks({ watchdogThresh: 1, onFault: (f) => faults.push(f.message) });
    void m.startTask(0, 'recursive');
    await until('soft lockup', () => faults.length > 0, 20_000);
    expect(lines(/possible recursive locking detected/)).toHaveLength(1);
    expect(lines(/possible recursive locking detected/)[0].text).toMatch(
      /\(self_lock\), at: recursive \(test\/modules\/locks\.ts:\d+\)\n\nbut task is already holding lock:\n\(self_lock\), at: recursive /,
    );
    expect(lines(/BUG: spinlock recursion on CPU#0/)).toHaveLength(1);
    expect(faults[0]).toMatch(/soft lockup - CPU#0 stuck/);
  });
});
