/**
 * The fuzz FIFO oracle's queue model (harness/fuzz/fifo.ts) with a pacer (the `pace` op). A
 * pacer queued ahead of a disabled tasklet re-queues itself every pass, so a pass that puts the
 * disabled entry back at the head instead of the tail puts it ahead of the pacer, after any
 * number of passes; with two disabled entries and no pacer, a head requeue only reverses them,
 * and the even number of passes a controlled softirq invocation makes restores their order.
 */
import { describe, expect, it } from 'vitest';
import { FuzzMachine } from '../harness/fuzz/executor.ts';
import type { Op, Program, TaskletSpec } from '../harness/fuzz/program.ts';

const mine: TaskletSpec = { mode: 'private', owner: 0, resched: 0, reschedHi: false, busyUs: 0 };

/** t0 queued first (as a pacer or plainly), t1 (and t2) disabled behind it; passes; enables. */
const program = (pacer: boolean): Program => {
  const held = pacer ? [1] : [1, 2];
  const thread: Op[] = [
    ...held.map((t): Op => ({ op: 'disable', t })),
    {
      op: 'irqsave',
      body: [
        pacer ? { op: 'pace', t: 0, hi: false } : { op: 'schedule', t: 0 },
        ...held.map((t): Op => ({ op: 'schedule', t })),
      ],
    },
    { op: 'bh', body: [{ op: 'delay', us: 0 }] },
    { op: 'irqsave', body: held.map((t): Op => ({ op: 'enable', t })) },
  ];
  return { cpus: 2, tasklets: [mine, mine, mine], threads: [thread, []] };
};

describe('fuzz FIFO model', () => {
  const SEEDS = 4;

  /** The FIFO findings among controlled runs of `program(pacer)` seeded 0..SEEDS-1. */
  async function fifoFindings(inject: string | undefined, pacer: boolean): Promise<number> {
    const m = new FuzzMachine({ cpus: 2, inject, controlled: { strategy: 'pct', seed: 1 } });
    try {
      let n = 0;
      for (let seed = 0; seed < SEEDS; seed++) {
        const plan = { strategy: seed % 2 === 0 ? 'pct' : 'random', seed } as const;
        const { violation } = await m.run(program(pacer), { seed, permille: 0, maxUs: 0 }, plan);
        if (violation !== null) expect(violation.oracle).toBe('fifo');
        if (violation !== null) n++;
      }
      return n;
    } finally {
      await m.shutdown();
    }
  }

  it('a requeue to the head is caught on every schedule with a pacer, and on none with two disabled entries alone', async () => {
    expect(await fifoFindings('requeue-to-head', true)).toBe(SEEDS);
    expect(await fifoFindings('requeue-to-head', false)).toBe(0);
  }, 60_000);

  it('a correct build passes the pacer program (the model follows the pacer and the requeues)', async () => {
    expect(await fifoFindings(undefined, true)).toBe(0);
    expect(await fifoFindings(undefined, false)).toBe(0);
  }, 60_000);
});
