/**
 * `tasklet-rt run`: the module's tasks start, a kernel report fails the run unless
 * --warn=continue, hotplug steps run (controlled too), and a controlled run is the same run
 * every time.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from './node-process.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const driver = 'test/modules/run-driver.ts';

const run = (args: string[]) => runNode(['cli/bin.mjs', 'run', ...args], { cwd: root });

/** The log without wall-clock stamps and the closing line (which times the run). */
const machineLog = (stdout: string): string =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('run: '))
    .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''))
    .join('\n');

describe('tasklet-rt run', () => {
  it("starts the module's tasks, and a WARN fails the run (exit 1) unless --warn=continue", async () => {
    const failed = await run([driver, '--cpus', '2', '--duration', '300ms']);
    expect(failed.stdout).toMatch(/CPU0: poller started on CPU0/);
    expect(failed.stdout).toMatch(
      /WARNING: CPU: 0 PID: \d+ at test\/modules\/run-driver\.ts:\d+ poller\+0x0\/0x0/,
    );
    expect(failed.stdout).toMatch(/run: .*1 kernel report \(WARNING\/BUG\)/);
    expect(failed.code).toBe(1);
    const tolerated = await run([driver, '--cpus', '2', '--duration', '300ms', '--warn', 'continue']);
    expect(tolerated.code).toBe(0);
    const quiet = await run([driver, '--cpus', '2', '--duration', '200ms', '--no-tasks']);
    expect(quiet.stdout).not.toMatch(/poller started/);
    expect(quiet.code).toBe(0);
  });

  it('takes CPUs down and up every --hotplug period, seeded', async () => {
    const r = await run([
      driver,
      '--cpus',
      '3',
      '--duration',
      '600ms',
      '--hotplug',
      '50ms',
      '--seed',
      '7',
      '--warn',
      'continue',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const steps = Number(/(\d+) hotplug steps, seed 7/.exec(r.stdout)?.[1]);
    expect(steps).toBeGreaterThan(0);
  });

  it('--controlled --seed: the same seed gives the same run', async () => {
    const args = [
      driver,
      '--cpus',
      '2',
      '--duration',
      '40ms',
      '--controlled',
      '--seed',
      '11',
      '--warn',
      'continue',
    ];
    const a = await run(args);
    const b = await run(args);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/seed 11, controlled \(pct\)/);
    expect(machineLog(a.stdout)).toBe(machineLog(b.stdout));
  });

  it('examples/rx-counter.ts: lockdep finds the stats lock taken with irqs on; the fixed driver runs clean', async () => {
    const buggy = await run(['examples/rx-counter.ts', '--cpus', '2', '--duration', '500ms']);
    // Which usage comes first depends on the interleaving: lockdep reports "{earlier} -> {new}".
    expect(buggy.stdout).toMatch(
      /inconsistent \{(HARDIRQ-ON-W\} -> \{IN-HARDIRQ-W|IN-HARDIRQ-W\} -> \{HARDIRQ-ON-W)\} usage\./,
    );
    expect(buggy.stdout).toMatch(
      /\(rx_stats_lock\), at: (rx_interrupt|reader) \(examples\/rx-counter\.ts:\d+\)/,
    );
    expect(buggy.stdout).toMatch(
      /state was registered at:\n {2}(rx_interrupt|reader) \(examples\/rx-counter\.ts:\d+\)/,
    );
    // 1 for the report; 3 when the deadlock lockdep predicts happened too (a CPU spinning in an
    // interrupt on the lock its own task holds never stops).
    expect([1, 3]).toContain(buggy.code);
    const fixed = await run(['examples/rx-counter-fixed.ts', '--cpus', '2', '--duration', '500ms']);
    expect(fixed.stdout).toMatch(/ 0 kernel reports /);
    expect(fixed.code, fixed.stdout).toBe(0);
  });

  it('the fixed driver under --controlled --hotplug: the reader spinning on the lock gets it, and the hotplug steps run', async () => {
    // The traffic task takes the lock again and again, with KCSAN windows inside: the reader used
    // to run only inside them, find the lock held every time, and never let its CPU go offline.
    const args = ['examples/rx-counter-fixed.ts', '--controlled', '--seed', '1', '--hotplug', '100ms'];
    const r = await run([...args, '--duration', '1s']);
    expect(r.stdout).toMatch(/ 0 faults, 0 kernel reports .* [1-9]\d* hotplug steps, seed 1, controlled/);
    expect(r.code, r.stdout).toBe(0);
  });

  it('bad values: one line, exit 2', async () => {
    for (const args of [
      ['--warn', 'never'],
      ['--hotplug', '5'],
      ['--strategy', 'pct'],
    ]) {
      const r = await run([driver, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
