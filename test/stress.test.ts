/**
 * The stress harness end to end: a clean run with hotplug reports nothing, every mutant is
 * caught by an oracle (a short selftest), and the CLI writes its reports and exit codes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MUTANTS } from '../harness/mutants.ts';
import { stressCommandLine } from '../harness/stress/command-line.ts';
import { huntReport, huntStressSchedule } from '../harness/stress/hunt.ts';
import { DEFAULT_MIX } from '../harness/stress/mix.ts';
import { describeViolation } from '../harness/stress/report.ts';
import { runStress } from '../harness/stress/run.ts';
import { STRESS_MUTANT_NAMES } from '../harness/stress-mutants.ts';
import { runNode } from './node-process.ts';

const cli = (args: string[]) => runNode(['cli/bin.mjs', ...args]);

describe('stress', () => {
  it('a clean run with CPU hotplug passes every drain check', async () => {
    const result = await runStress({
      cpus: 2,
      tasklets: 48,
      durationMs: 3000,
      seed: 2024,
      mix: DEFAULT_MIX,
      hotplugMs: 250,
      oracles: true,
      epochMs: 500,
    });
    expect(result.faults).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.status).toBe('clean');
    expect(result.epochs).toBeGreaterThanOrEqual(2);
    expect(result.hotplugOps).toBeGreaterThan(0);
    // Work on every CPU (how much depends on the host: speed is the benchmark's business).
    for (const t of result.totals) expect(t.runs, JSON.stringify(t)).toBeGreaterThan(0);
    // The timer and BH work ops ran too, judged by their oracles (bh-*.ts).
    for (const kind of [
      'mod_timer',
      'timer_run',
      'del_timer_sync',
      'queue_work_on',
      'work_run',
      'flush_work',
    ])
      expect(result.coverage!.counts[kind], kind).toBeGreaterThan(0);
  });

  it('a free-running failure comes back as a controlled run that fails the same way every time', async () => {
    const failed = await runStress({
      cpus: 2,
      tasklets: 48,
      durationMs: 5000,
      seed: 7,
      mix: DEFAULT_MIX,
      hotplugMs: 0,
      oracles: true,
      inject: 'wrong-cpu',
    });
    // Mostly G5 (a run on the wrong CPU); on a loaded host sometimes first G4: a kill waits on
    // a tasklet left on a queue whose CPU never raised its softirq.
    expect(failed.status).toBe('violation');
    const oracle = failed.violations[0].oracle;
    expect(['locality', 'at-least-once']).toContain(oracle);
    const hunt = await huntStressSchedule(failed, { budgetMs: 20_000, tryMs: 200 });
    // exact: the hunt ran the repro twice and got the same violation and trace hash.
    expect(hunt).toMatchObject({ found: true, exact: true, oracle });
    // The same guarantee, or (said so) another that the same build breaks every time.
    if (hunt.other) expect(MUTANTS['wrong-cpu'].breaks).toContain(hunt.violation?.guarantee);
    else expect(hunt.violation?.oracle).toBe(oracle);
    const repro = hunt.options;
    if (repro === undefined) throw new Error('no repro');
    expect(repro.controlled).toBeDefined();
    expect(stressCommandLine(repro)).toMatch(
      /^tasklet-rt stress --controlled --strategy \w+ .*--inject wrong-cpu/,
    );
  });

  it('a controlled report is stamped in machine time, as its --duration and its hunt line are', () => {
    const v = {
      oracle: 'kernel-report' as const,
      guarantee: 0,
      tasklet: -1,
      cpus: [1],
      message: 'BUG: KASAN: use-after-free in rx_ring_process',
      name: '',
      events: [],
      atMs: 3550,
      machineMs: 2453.2,
    };
    expect(describeViolation(v, true)).toMatch(
      /^KERNEL REPORT \(kernel-report\) at 2\.453s of machine time: machine \[CPU 1\]/,
    );
    expect(describeViolation(v)).toMatch(/\) at 3\.55s: machine/);
    expect(describeViolation({ ...v, machineMs: undefined }, true)).toMatch(/\) at 3\.55s: machine/);
  });

  it('a failure no controlled run repeats hands back, said so, an exact repro of what the same build breaks', async () => {
    const failed = await runStress({
      cpus: 2,
      tasklets: 16,
      durationMs: 2000,
      seed: 3,
      mix: DEFAULT_MIX,
      hotplugMs: 0,
      oracles: true,
      inject: 'hi-after-normal',
    });
    expect(failed.violations[0]?.oracle).toBe('order');
    // A guarantee that this mutant never breaks: no try can fail that way.
    const asIf = {
      ...failed,
      violations: [{ ...failed.violations[0], oracle: 'kill' as const, guarantee: 10 }],
    };
    const hunt = await huntStressSchedule(asIf, { budgetMs: 1500, tryMs: 200 });
    expect(hunt).toMatchObject({ found: true, exact: true, other: true, oracle: 'kill' });
    expect(hunt.violation?.oracle).toBe('order');
    expect(huntReport(hunt)).toMatch(
      /^no controlled run broke kill in [\d.]+s \(\d+ tries\); the same build breaks order every time: order at/,
    );
  });

  it('CLI: exit 1 with the violation in JSON and JUnit for a mutant, 0 and clean files without', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stress-cli-'));
    const bad = await cli([
      'stress',
      '--cpus',
      '2',
      '--duration',
      '5s',
      '--seed',
      '5',
      '--inject',
      'hi-after-normal',
      '--no-hunt',
      '--quiet',
      '--json',
      join(dir, 'bad.json'),
      '--junit',
      join(dir, 'bad.xml'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/VIOLATION of guarantee 7 \(order\)/);
    const json = JSON.parse(readFileSync(join(dir, 'bad.json'), 'utf8'));
    expect(json).toMatchObject({ status: 'violation', seed: 5, mutant: { name: 'hi-after-normal' } });
    expect(json.violations[0]).toMatchObject({ oracle: 'order', guarantee: 7 });
    expect(json.exactRepro).toBeNull(); // --no-hunt
    const xml = readFileSync(join(dir, 'bad.xml'), 'utf8');
    expect(xml).toMatch(/<testcase classname="tasklet-rt.stress" name="G7 order"[^>]*>\s*<failure/);
    expect(xml).toMatch(/failures="1"/);

    const good = await cli([
      'stress',
      '--cpus',
      '2',
      '--duration',
      '1500ms',
      '--seed',
      '6',
      '--quiet',
      '--json',
      join(dir, 'good.json'),
    ]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/result: CLEAN/);
    expect(JSON.parse(readFileSync(join(dir, 'good.json'), 'utf8')).status).toBe('clean');
  }, 60_000);

  it('CLI: --list-mutants names every mutant and the guarantees it breaks', async () => {
    const out = await cli(['stress', '--list-mutants']);
    expect(out.code).toBe(0);
    for (const mutant of STRESS_MUTANT_NAMES) expect(out.stdout).toContain(mutant);
    expect(out.stdout).toMatch(/breaks G\d/);
    expect(out.stdout).toMatch(/timer-early .*\(breaks T2\)/);
    expect(out.stdout).toMatch(/work-flush-early .*\(breaks W3\)/);
  });
});
