/** Context predicates, smp_processor_id and current in hard irq, softirq, ksoftirqd and process context. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KSOFTIRQD_PID_BASE } from '../kernel/sched.ts';
import type { Machine } from '../machine/index.ts';
import { bootShared, pf, resetProbe, until } from './helpers.ts';
import {
  CTX_HARDIRQ,
  CTX_INTERRUPT,
  CTX_SERVING,
  CTX_SOFTIRQ,
  CTX_TASK,
  F_CONTEXT,
  F_LAST_CPU,
  F_PID,
  F_RUNS,
} from './modules/probe-layout.ts';

interface Ctx {
  hardirq: boolean;
  irq: boolean;
  interrupt: boolean;
  softirq: boolean;
  serving: boolean;
  task: boolean;
  cpu: number;
  pid: number;
  comm: string;
}

describe('contexts', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await bootShared();
  });
  afterAll(async () => {
    await m.shutdown();
  });

  it('hard irq (a call): in_hardirq/in_irq and in_interrupt; current is the interrupted task', async () => {
    for (const cpu of [0, 1]) {
      const c = (await m.call(cpu, 'context')) as Ctx;
      expect(c).toMatchObject({
        hardirq: true,
        irq: true,
        interrupt: true,
        softirq: false,
        serving: false,
        task: false,
        cpu,
      });
      // An idle machine runs only the idle task and ksoftirqd (woken when a slow host makes the
      // tick's softirq pass overrun its bounds): the interrupt finds one of the two.
      const interrupted = [
        { pid: 0, comm: `swapper/${cpu}` },
        { pid: KSOFTIRQD_PID_BASE + cpu, comm: `ksoftirqd/${cpu}` },
      ];
      expect(interrupted).toContainEqual({ pid: c.pid, comm: c.comm });
    }
  });

  it('process context (a task): in_task only; smp_processor_id, its own pid and comm', async () => {
    for (const cpu of [0, 1]) {
      const c = (await m.runTask(cpu, 'context')) as Ctx;
      expect(c).toMatchObject({
        hardirq: false,
        irq: false,
        interrupt: false,
        softirq: false,
        serving: false,
        task: true,
        cpu,
        comm: 'context',
      });
      expect(c.pid).toBeGreaterThanOrEqual(1000);
    }
  });

  it('bh disabled in a task: in_softirq and in_interrupt, not serving, still in_task', async () => {
    const r = (await m.runTask(1, 'bhContext')) as { inside: number; after: number };
    expect(r.inside).toBe(CTX_SOFTIRQ | CTX_INTERRUPT | CTX_TASK);
    expect(r.after).toBe(CTX_TASK);
  });

  const softirqCtx = CTX_SERVING | CTX_INTERRUPT | CTX_SOFTIRQ;

  it('softirq on irq exit: serving softirq, in_interrupt, not hardirq, not task; current is the interrupted task', async () => {
    resetProbe(m, 1);
    await m.call(1, 'schedule', { id: 1 });
    await until('ran', () => pf(m, 1, F_RUNS) === 1);
    expect(pf(m, 1, F_CONTEXT)).toBe(softirqCtx);
    expect(pf(m, 1, F_CONTEXT) & (CTX_HARDIRQ | CTX_TASK)).toBe(0);
    expect(pf(m, 1, F_PID)).toBe(0);
    expect(pf(m, 1, F_LAST_CPU)).toBe(1);
  });

  it('ksoftirqd/N: a process-context schedule runs there, with the same softirq context', async () => {
    for (const cpu of [0, 1]) {
      // An irq exit on that CPU may get to the pending softirq first: retry (bounded).
      for (let attempt = 0; attempt < 30; attempt++) {
        resetProbe(m, 2);
        await m.runTask(cpu, 'schedule', { id: 2 });
        await until('ran', () => pf(m, 2, F_RUNS) === 1);
        expect(pf(m, 2, F_CONTEXT)).toBe(softirqCtx);
        expect(pf(m, 2, F_LAST_CPU)).toBe(cpu);
        if (pf(m, 2, F_PID) === KSOFTIRQD_PID_BASE + cpu) break;
      }
      expect(pf(m, 2, F_PID)).toBe(KSOFTIRQD_PID_BASE + cpu);
    }
  });
});
