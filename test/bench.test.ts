/**
 * The bench at a tiny size: every workload runs, the JSON has the documented shape, a --quick run
 * is not graded, every file written is named, and bad flags or an unwritable output path are
 * rejected before anything runs. The reports themselves are checked on made-up results: no
 * figure is measured or compared with a speed.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseLoad } from '../bench/load.ts';
import { decadeBounds, htmlReport } from '../bench/report/html.ts';
import { markdownReport } from '../bench/report/markdown.ts';
import { terminalReport } from '../bench/report/terminal.ts';
import type { BenchResults } from '../bench/results.ts';
import { summarize } from '../bench/stats.ts';
import { checkTargets } from '../bench/targets.ts';
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

/** Runs the bench command and returns what it printed on stdout (progress on stderr is dropped). */
async function bench(args: string[]): Promise<string> {
  const out: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await parse(args);
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  return out.join('');
}

/** Columns a line takes on a terminal (every character in the reports is one column wide). */
const widest = (text: string): number => Math.max(...text.split('\n').map((line) => [...line].length));

const s = (...values: number[]) => summarize(values);

/** Results as a full run would give them, with long cells, for the report renderers. */
function madeUp(quick: boolean): BenchResults {
  const params = { concurrentTasksPerWorker: 1, atomics: 'sync' };
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    host: { node: 'v20.0.0', platform: 'linux x64', cpuModel: 'Test CPU', cores: 2 },
    settings: {
      cpus: 2,
      durationMs: quick ? 100 : 1000,
      runs: quick ? 1 : 3,
      warmupMs: 300,
      ...(quick ? {} : { settleMaxMs: 6000 }),
      idlePollUs: 100,
      localTasklets: 16,
      sharedTasklets: 16,
      quick,
      only: ['local', 'latency', 'baselines'],
    },
    throughput: [1, 2].flatMap((cpus) =>
      (['tasklet-rt', 'bare', 'piscina'] as const).map((implementation) => ({
        workload: implementation === 'piscina' ? 'no-op task' : 'local',
        implementation,
        cpus,
        params,
        perSecond: s(1.5e6 * cpus, 1.2e6 * cpus, 1.9e6 * cpus),
        perSecondPerCpu: s(1.5e6, 1.2e6, 1.9e6),
        requeuesPerSecond: s(512, 300, 900),
      })),
    ),
    latency: ['busy (16 tasklets running)', 'idle peer (spin then sleep)'].map((target) => ({
      workload: 'cross-cpu ping-pong',
      target,
      cpus: 2,
      idlePollUs: 100,
      samples: 123456,
      lost: 12,
      p50: s(2.7, 2.5, 3.1),
      p99: s(10.7),
      p999: s(120),
      max: s(1407),
      distribution: [
        [0, 0],
        [50, 2.7],
        [99, 10.7],
        [100, 1407],
      ],
      perSecond: s(252_000, 250_000, 260_000),
    })),
    machines: [
      {
        cpus: 2,
        idlePollUs: 100,
        bootMs: 900,
        rssPerCpuBytes: 40e6,
        heapUsedPerCpuBytes: 11e6,
        heapTotalPerCpuBytes: 17e6,
      },
    ],
    targets: [{ name: 'local runs per CPU', goal: '≥ 5 M/s', measured: '1.50 M/s', met: false }],
  };
}

const stat = expect.objectContaining({
  median: expect.any(Number),
  min: expect.any(Number),
  max: expect.any(Number),
  values: expect.any(Array),
});

describe('bench', () => {
  it('runs every workload at a tiny size, does not grade the quick run, and names each file it wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    // The JSON's folder does not exist yet: the bench makes it, and says so.
    const files = { json: join(dir, 'new', 'b.json'), md: join(dir, 'b.md'), html: join(dir, 'b.html') };
    const stdout = await bench([
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
    expect(r.fuzz?.map((f) => f.mode)).toEqual(['free-running', 'controlled']);
    expect(Array.isArray(r.boot)).toBe(true);
    for (const l of r.latency) {
      expect(l).toMatchObject({ p50: stat, p99: stat, p999: stat, max: stat, samples: expect.any(Number) });
      expect(l.distribution.length).toBeGreaterThan(0);
    }
    expect(r.machines.every((m) => m.bootMs > 0 && m.heapUsedPerCpuBytes > 0)).toBe(true);

    // A quick run is no verdict: no targets checked, and every report says why.
    expect(r.targets).toEqual([]);
    expect(stdout).toContain('Quick run (--quick)');
    expect(stdout).toContain('indicative only');
    expect(stdout).not.toMatch(/Targets|│ met │|\b(yes|NO) *│/);
    const md = readFileSync(files.md, 'utf8');
    expect(md).toContain('| workload |');
    expect(md).toContain('Quick run (--quick)');
    expect(md).not.toContain('## Targets');
    const html = readFileSync(files.html, 'utf8');
    expect(html).toContain('new Chart(');
    expect(html).toContain('Quick run (--quick)');
    expect(html).not.toMatch(/<script[^>]+src=/); // self-contained

    // Every file, one line each, with its path; nothing else written.
    const said = stdout.split('\n').filter((line) => line.startsWith('bench: '));
    expect(said).toEqual([
      `bench: made directory ${join(dir, 'new')} (for --json)`,
      `bench: wrote ${files.json} (JSON results)`,
      `bench: wrote ${files.md} (Markdown report)`,
      `bench: wrote ${files.html} (HTML report)`,
    ]);
    expect(widest(stdout)).toBeLessThanOrEqual(100);
  });

  it('says so when it wrote no file', async () => {
    const stdout = await bench(['--quick', '--only', 'latency', '--duration', '10ms']);
    expect(stdout).toContain('bench: no files written (--json, --md, --html write reports)');
    expect(stdout).not.toContain('bench: wrote');
  });

  it('grades a full run in every report, and never a quick one', () => {
    const full = madeUp(false);
    expect(terminalReport(full)).toMatch(/Targets\n.*\n│ target +│ goal +│ measured +│ met │/);
    expect(terminalReport(full)).not.toContain('Quick run');
    expect(markdownReport(full)).toContain('## Targets');
    expect(markdownReport(full)).toContain('| params |'); // room for the column there
    expect(htmlReport(full)).toContain('<h2>Targets</h2>');
    const warmup = 'warm-up 300 ms, then until the rate settles (at most 6 s)';
    expect(markdownReport(full)).toContain(warmup);
    expect(htmlReport(full)).toContain(warmup);
    const quick = madeUp(true); // targets given, as an old JSON might hold: still not shown
    for (const report of [terminalReport(quick), markdownReport(quick), htmlReport(quick)]) {
      expect(report).toContain('not graded against the targets');
      expect(report).not.toContain('Targets');
      expect(report).not.toContain('local runs per CPU');
    }
  });

  it('fits the terminal tables in 100 columns, wrapping cells between words without losing one', () => {
    const text = terminalReport(madeUp(false));
    expect(widest(text)).toBeLessThanOrEqual(100);
    expect(text).not.toContain('…'); // what cli-table3 shows of a cell too wide for its column
    const words = text.replace(/[│┌┐└┘├┤┬┴┼─]/g, ' ').split(/\s+/);
    for (const word of [
      'concurrentTasksPerWorker=1',
      'atomics=sync',
      'ping-pong',
      'idle',
      'peer',
      '(spin',
      'then',
      'sleep)',
    ])
      expect(words).toContain(word);
    // A number keeps its unit, a spread stays whole, the unit it shares written once.
    expect(text).toMatch(/│ 3\.00 M \(2\.40–3\.80\) +│ 1\.50 M +│/);
    // What each workload ran is listed under the table, once.
    expect(text).toContain('params:\n  local · tasklet-rt: concurrentTasksPerWorker=1 atomics=sync\n');
    expect(text).toContain('(12 lost)');
  });

  it('fits the terminal tables in a narrower terminal, breaking words only where it must', () => {
    const text = terminalReport(madeUp(false), 60);
    expect(widest(text)).toBeLessThanOrEqual(60);
    expect(text).not.toContain('…');
  });

  it('writes a static HTML report: no animation, log axes labelled at decades, no point off a chart', () => {
    const html = htmlReport(madeUp(false));
    expect(html).toContain('Chart.defaults.animation = false;');
    expect(html).toMatch(/const base = \{ animation: false,/);
    expect(html.match(/\.\.\.base,/g)).toHaveLength(3); // every chart takes the static options
    expect(html).toMatch(/autoSkip: false,\s+maxRotation: 0,/);
    expect(decadeBounds([2.7, 10.7, 1407, null, 0])).toEqual({ min: 1, max: 10_000 });
    expect(decadeBounds([100])).toEqual({ min: 100, max: 1000 });
    expect(decadeBounds([null, 0])).toBeNull();
    const data = JSON.parse(
      html.match(/<script id="bench-data" type="application\/json">(.*?)<\/script>/)![1]!,
    );
    expect(data.latency[0].points[0]).toEqual([0, null]); // 0 µs cannot sit on a log axis
    const noLatency = htmlReport({ ...madeUp(false), latency: [] });
    expect(noLatency).not.toContain('<canvas id="latency">');
    expect(noLatency).toContain('<canvas id="scaling">');
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

  it('parses --load: busy threads, machines, lists; refuses anything else', () => {
    expect(parseLoad('2')).toEqual([{ kind: 'hog', threads: 2 }]);
    expect(parseLoad('1:machine,3:hog')).toEqual([
      { kind: 'machine', threads: 1 },
      { kind: 'hog', threads: 3 },
    ]);
    for (const bad of ['', '0', '2:cpu', 'two', '65', '2,']) expect(parseLoad(bad)).toBeNull();
  });

  it('grades local vs bare at 1 and n CPUs (0.5 under --load), fuzz programs/s and boot per CPU', () => {
    const r = madeUp(false);
    const checks = (load: string) =>
      checkTargets({
        ...r,
        settings: { ...r.settings, load },
        fuzz: [{ mode: 'controlled', cpus: 2, programsPerSecond: 1200, seconds: 4 }],
        boot: [{ from: 'build', cpus: 2, ms: 260, msPerCpu: 130 }],
      });
    const byName = (load: string) => new Map(checks(load).map((c) => [c.name, c]));
    const quiet = byName('none');
    // The fixture's runtime equals its bare ceiling: ratio 1.
    expect(quiet.get('local vs bare, 1 CPU')).toMatchObject({ goal: '≥ 0.70 × bare', met: true });
    expect(quiet.get('local vs bare, 2 CPUs')).toMatchObject({ measured: '1.00 ×', met: true });
    expect(quiet.get('fuzz programs/s, controlled, 2 CPUs')).toMatchObject({ met: true });
    expect(quiet.get('boot from the build, 2 CPUs')).toMatchObject({
      measured: '130 ms per CPU',
      met: false,
    });
    expect(byName('2 busy threads').get('local vs bare, 2 CPUs (under --load)')).toMatchObject({
      goal: '≥ 0.50 × bare',
    });
  });

  it('rejects an unwritable output path before running anything', async () => {
    const started = performance.now();
    await expect(parse(['--json', '/dev/null/results.json'])).rejects.toBeInstanceOf(UsageError);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
