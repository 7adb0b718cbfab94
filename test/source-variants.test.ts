/**
 * tools/source-variants.mjs edits the runtime's own source: each edit must still match the
 * source it was written against, exactly once, or the sweep would measure a build that is not
 * the broken one it names.
 */
import { describe, expect, it } from 'vitest';
import { runNode } from './node-process.ts';

const tool = (args: string[]) => runNode(['tools/source-variants.mjs', ...args]);

describe('source variants', () => {
  it('every edit matches the current source exactly once', async () => {
    const out = await tool(['--check']);
    expect(out.stderr).toBe('');
    const [, matching, all] = /^(\d+) of (\d+) variants match the source$/m.exec(out.stdout) ?? [];
    expect(Number(all)).toBeGreaterThan(20);
    expect(matching).toBe(all);
    expect(out.code).toBe(0);
  });

  it('--list names each variant with its file; an unknown one is a one-line error, exit 2', async () => {
    const list = await tool(['--list']);
    expect(list.stdout).toMatch(/^clear-sched-no-wake +kernel\/tasklet\.ts: /m);
    expect(list.stdout).toMatch(/^work-pending-cleared-late +kernel\/workqueue\.ts: /m);
    const bad = await tool(['--only', 'no-such-variant']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("source-variants: unknown variant 'no-such-variant' (see --list)");
  });
});
