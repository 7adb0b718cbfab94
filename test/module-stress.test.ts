/**
 * Stress of a user's module (harness/module/): a planted bug in a module's own code is caught
 * by a generic oracle judged from the harness's tracepoint shadow, and its clean twin runs clean.
 * Controlled mode keeps the outcomes exact (module-fuzz.test.ts checks that a run replays).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ModuleStressOptions, stressModule } from '../harness/module/stress.ts';

const unlocker = fileURLToPath(new URL('./modules/unlocker.ts', import.meta.url));
const example = (name: string): string => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

const options = (bug: number): ModuleStressOptions => ({
  file: unlocker,
  cpus: 2,
  durationMs: 40,
  seed: 1,
  hotplugMs: 0,
  warn: 'fail',
  params: { 'unlocker.bug': bug },
  controlled: { strategy: 'pct', seed: 1 },
  traceCapacity: 256,
});

describe('stress MODULE', () => {
  it('a callback that releases its own RUN bit is caught as G1 (mutual exclusion); the clean twin runs clean', async () => {
    const buggy = await stressModule(options(1));
    expect(buggy.status).toBe('violation');
    expect(buggy.violations[0]).toMatchObject({
      oracle: 'mutual-exclusion',
      guarantee: 1,
      name: 'unlocker_tasklet',
    });
    expect(buggy.violations[0].trace?.length).toBeGreaterThan(0);

    const clean = await stressModule(options(0));
    expect(clean.faults).toEqual([]);
    expect(clean.violations).toEqual([]);
    expect(clean.status).toBe('clean');
    expect(clean.tasklets[0].runs).toBeGreaterThan(0);
    expect(clean.irqs[0].raised).toBeGreaterThan(0);
    expect(clean.epochs).toBeGreaterThan(0);
  }, 60_000);
});

describe('stress MODULE on examples/rx-ring.ts (request_irq in probe, tasklet_kill before free_irq in remove)', () => {
  /** Controlled: the outcome is the seed's, every time. remove → probe every 5 ms of machine time. */
  const rxOptions = (name: string): ModuleStressOptions => ({
    file: example(name),
    cpus: 2,
    durationMs: 400,
    seed: 1,
    hotplugMs: 0,
    warn: 'fail',
    controlled: { strategy: 'pct', seed: 1 },
    traceCapacity: 0,
    lifecycleMs: 5,
  });

  it('the line probe requests is driven; KASAN finds the tasklet on the freed device; the fixed order runs clean', async () => {
    const buggy = await stressModule(rxOptions('rx-ring.ts'));
    expect(buggy.status).toBe('violation');
    expect(buggy.violations[0].oracle).toBe('kernel-report');
    expect(buggy.violations[0].message).toMatch(/BUG: KASAN: use-after-free in rx_ring_process/);

    const fixed = await stressModule(rxOptions('rx-ring-fixed.ts'));
    expect(fixed.faults).toEqual([]);
    expect(fixed.violations).toEqual([]);
    expect(fixed.status).toBe('clean');
    expect(fixed.irqs[0]).toMatchObject({ irq: 3 });
    expect(fixed.irqs[0].raised).toBeGreaterThan(0);
    expect(fixed.lifecycleCycles).toBeGreaterThan(0);
    expect(fixed.tasklets[0].runs).toBeGreaterThan(0);
  }, 60_000);
});
