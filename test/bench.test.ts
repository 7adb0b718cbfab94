/**
 * The bench at a tiny size: every workload runs, the JSON has the documented shape, and bad
 * flags or an unwritable output path are rejected before anything runs.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../bench/results.ts';
import { registerBench } from '../cli/bench.ts';
import { UsageError } from '../cli/errors.ts';

function program(): Command {
  const p = new Command('tasklet-rt')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerBench(p);
  return p;
}

const parse = (args: string[]) => program().parseAsync(['bench', ...args], { from: 'user' });

const stat = expect.objectContaining({
  median: expect.any(Number),
  min: expect.any(Number),
  max: expect.any(Number),
  values: expect.any(Array),
});

describe('bench', () => {
  it('runs every workload at a tiny size and writes JSON, Markdown and HTML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    const files = { json: join(dir, 'b.json'), md: join(dir, 'b.md'), html: join(dir, 'b.html') };
    const write = process.stdout.write;
    process.stdout.write = () => true; // the terminal table
    try {
      await parse([
        '--quick',
        '--cpus',
        '2',
        '--duration',
        '40ms',
        '--json',
        files.json,
        '--md',
        files.md,
        '--html',
        files.html,
      ]);
    } finally {
      process.stdout.write = write;
    }
    const r = JSON.parse(readFileSync(files.json, 'utf8')) as BenchResults;
    expect(r.settings).toMatchObject({ cpus: 2, runs: 1, quick: true });
    const rows = r.throughput.map((t) => `${t.workload}/${t.implementation}/${t.cpus}`);
    for (const row of [
      'local/tasklet-rt/1',
      'local/tasklet-rt/2',
      'shared/tasklet-rt/2',
      'local-hi/tasklet-rt/2',
    ])
      expect(rows).toContain(row);
    for (const row of ['shared-hi/tasklet-rt/2', 'local/bare/2', 'shared/bare/2', 'no-op task/piscina/2'])
      expect(rows).toContain(row);
    for (const t of r.throughput) expect(t).toMatchObject({ perSecond: stat, perSecondPerCpu: stat });
    expect(
      r.throughput.find((t) => t.workload === 'local' && t.cpus === 2)!.perSecond.median,
    ).toBeGreaterThan(0);
    expect(r.latency.map((l) => l.target)).toEqual(
      expect.arrayContaining(['idle peer (spin then sleep)', 'idle-spin', 'idle-sleep']),
    );
    for (const l of r.latency) {
      expect(l).toMatchObject({ p50: stat, p99: stat, p999: stat, max: stat, samples: expect.any(Number) });
      expect(l.distribution.length).toBeGreaterThan(0);
    }
    expect(r.machines.every((m) => m.bootMs > 0 && m.heapUsedPerCpuBytes > 0)).toBe(true);
    expect(r.targets.length).toBeGreaterThan(0);
    expect(readFileSync(files.md, 'utf8')).toContain('| workload |');
    const html = readFileSync(files.html, 'utf8');
    expect(html).toContain('new Chart(');
    expect(html).not.toMatch(/<script[^>]+src=/); // self-contained
  });

  it.each([
    ['--cpus', '0'],
    ['--cpus', 'two'],
    ['--duration', 'soon'],
    ['--runs', '-1'],
    ['--only', 'local,nope'],
    ['--idle-poll-us', '1.5'],
  ])('rejects %s %s', async (flag, value) => {
    await expect(parse([flag, value])).rejects.toBeInstanceOf(CommanderError);
  });

  it('rejects an unwritable output path before running anything', async () => {
    const started = performance.now();
    await expect(parse(['--json', '/dev/null/results.json'])).rejects.toBeInstanceOf(UsageError);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
