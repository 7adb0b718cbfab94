/**
 * MachineOptions.deepInlining raises V8's inlining budget while such a machine runs and puts it
 * back when the last one shuts down; a machine without it leaves the flags alone.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const flags = vi.hoisted(() => [] as string[]);
vi.mock('node:v8', async (original) => ({
  ...(await original<typeof import('node:v8')>()),
  setFlagsFromString: (flag: string) => flags.push(flag),
}));

const { Machine } = await import('../machine/index.ts');

afterEach(() => {
  flags.length = 0;
});

describe('deep inlining', () => {
  it('raises the budget for the machine it was asked for, and restores the defaults at shutdown', async () => {
    const m = await Machine.boot({ cpus: 1, deepInlining: true, onPrintk: () => {} });
    expect(flags).toEqual([
      '--max-inlined-bytecode-size=1000',
      '--max-inlined-bytecode-size-cumulative=4000',
      '--max-inlined-bytecode-size-absolute=8000',
    ]);
    await m.shutdown();
    expect(flags.slice(3)).toEqual([
      '--max-inlined-bytecode-size=460',
      '--max-inlined-bytecode-size-cumulative=920',
      '--max-inlined-bytecode-size-absolute=4600',
    ]);
  });

  it('leaves the flags alone by default', async () => {
    const m = await Machine.boot({ cpus: 1, onPrintk: () => {} });
    await m.shutdown();
    expect(flags).toEqual([]);
  });
});
