/**
 * Bad input: every bad command line ends in one line on stderr naming the bad value, exit 2,
 * no stack trace, and (where the input alone shows it is bad) before any machine boots.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distIsCurrent } from './helpers.ts';
import { type Outcome, runNode } from './node-process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const hello = 'examples/hello.ts';
let dir = '';

/** [argv, what the one line must say]; `DIR` stands for a scratch directory of bad modules. */
const CASES: [string[], RegExp][] = [
  [['frobnicate'], /unknown command 'frobnicate'/],
  [['run'], /missing required argument 'module'/],
  [['run', '--bogus', hello], /unknown option '--bogus'/],
  [['run', hello, 'extra'], /too many arguments for 'run'/],
  [['run', 'DIR/missing.ts'], /module file not found: '.*missing\.ts'/],
  [['run', 'DIR/notes.txt'], /'.*notes\.txt' is not a module file/],
  [['run', 'DIR/dir.ts'], /'.*dir\.ts' is not a file/],
  [
    ['run', '--cpus', '1', 'DIR/syntax.ts'],
    /syntax\.ts:2:\d+: syntax error: Expected identifier but found ","/,
  ],
  [['run', '--cpus', '1', 'DIR/syntax.mjs'], /syntax\.mjs:2:\d+: syntax error: Unexpected token ','/],
  [
    ['run', '--cpus', '1', 'DIR/nodefault.ts'],
    /nodefault\.ts: not a tasklet-rt module \(no `export default defineModule/,
  ],
  [['run', '--cpus', '0', hello], /--cpus must be from 1 to 64, got 0/],
  [['run', '--cpus', '65', hello], /--cpus must be from 1 to 64, got 65/],
  [['run', '--cpus', 'two', hello], /--cpus must be a whole number, got 'two'/],
  [['run', '--cpus', '1.5', hello], /--cpus must be a whole number, got '1\.5'/],
  [['run', '--duration', '10x', hello], /--duration must be a duration like 10s, 500ms or 2m, got '10x'/],
  [['run', '--duration', '-5s', hello], /--duration must be a duration .* got '-5s'/],
  [['run', '--duration', '0s', hello], /--duration must be from 1ms to 24h, got '0s'/],
  [['run', '--duration', '10', hello], /--duration needs a unit \(10s, 500ms, 2m\), got '10'/],
  [['stress', '--hotplug', '500'], /--hotplug needs a unit .* got '500'/],
  [['fuzz', '--shrink', '10'], /--shrink needs a unit .* got '10'/],
  [['run', '--duration', '25h', hello], /--duration must be from 1ms to 24h, got '25h'/],
  [['run', '--hz', '5', hello], /--hz must be from 10 to 10000, got 5/],
  [['run', '--trace-buffer', '1M', hello], /--trace-buffer needs --ftrace or --trace/],
  [
    ['run', '--ftrace', 'DIR/t.txt', '--trace-buffer', '64x', hello],
    /--trace-buffer must be a count like 65536, 64k or 1M, got '64x'/,
  ],
  [
    ['stress', '--cpus', '64', '--ftrace', 'DIR/t.txt', '--trace-buffer', '4M'],
    /--trace-buffer 4194304 on 64 CPUs needs 9\.0 GiB of trace rings; at most 4 GiB/,
  ],
  [['run', '--oops', 'maybe', hello], /--oops must be one of panic, continue, got 'maybe'/],
  [['run', '--watchdog-thresh', 'abc', hello], /--watchdog-thresh must be a whole number, got 'abc'/],
  [['run', '--watchdog-thresh', '4000', hello], /--watchdog-thresh must be from 0 to 3600, got 4000/],
  [['run', '--hung-task-timeout', '-1', hello], /--hung-task-timeout must be a whole number, got '-1'/],
  [['cat'], /missing required argument 'file'/],
  [['cat', '/proc/../etc/passwd'], /not a proc file: '\/proc\/\.\.\/etc\/passwd'/],
  [['cat', '--cpu', '5', '--cpus', '2', '/proc/jitasklet'], /--cpu 5 does not exist on a 2-CPU machine/],
  [['cat', '--module', 'DIR/missing.ts', '/proc/jitasklet'], /--module: module file not found/],
  [['stress', '--cpus', '0'], /--cpus must be from 1 to 64, got 0/],
  [['stress', '--duration', '50ms'], /--duration must be from 100ms to 24h, got '50ms'/],
  [['stress', '--inject', 'no-such-mutant'], /--inject must be one of .* got 'no-such-mutant'/],
  [['stress', '--seed', '99999999999'], /--seed must be from 0 to 4294967295, got 99999999999/],
  [['stress', '--mix', 'sched=abc'], /--mix entry 'sched=abc' is not NAME=WEIGHT/],
  [['stress', '--tasklets', '3', '--cpus', '8'], /--tasklets 3 is too few for 8 CPUs/],
  [['stress', '--jobs', '2'], /--jobs needs --controlled/],
  [['stress', '--controlled', '--jobs', '0'], /--jobs must be from 1 to 64, got 0/],
  [['stress', '--controlled', '--jobs', '2', '--ftrace', 'DIR/t.txt'], /use them with --jobs 1/],
  [['stress', '--hotplug', '1ms'], /--hotplug must be from 10ms to 24h, got '1ms'/],
  [['stress', '--json', 'DIR/nowhere/out.json'], /--json .*out\.json: directory .*nowhere does not exist/],
  [['stress', '--junit', 'DIR'], /--junit .*: is a directory/],
  [['stress', '--watchdog-thresh', 'x'], /--watchdog-thresh must be a whole number, got 'x'/],
  [['stress', '--strategy', 'pct'], /--strategy needs --controlled/],
  [['stress', '--steps', '1000'], /--steps needs --controlled/],
  [['stress', '--hunt', '100ms'], /--hunt must be from 1s to 24h, got '100ms'/],
  [['stress', '--controlled', '--strategy', 'fifo'], /--strategy must be one of random, pct, rr, got 'fifo'/],
  [['stress', '--controlled', '--depth', '0'], /--depth must be from 1 to 8, got 0/],
  [['fuzz', '--controlled', '--quantum', '0'], /--quantum must be from 1 to 1000000, got 0/],
  [['fuzz', '--depth', '2'], /--depth needs --controlled/],
  [['fuzz', '--jobs', '0'], /--jobs must be from 1 to 64, got 0/],
  [['selftest', '--cpus', '1'], /--cpus must be from 2 to 64, got 1/],
  [['selftest', '--budget', '1ms'], /--budget must be from 500ms to 24h, got '1ms'/],
  [['selftest', '--only', 'nope'], /--only must be one of .* got 'nope'/],
  [['selftest', '--json', 'DIR/nowhere/x.json'], /--json .*x\.json: directory .*nowhere does not exist/],
  [['compare', '--cpus', '1'], /--cpus must be from 2 to 64, got 1/],
  [['compare', '--duration', '10'], /--duration needs a unit .* got '10'/],
  [['compare', '--trials', '0'], /--trials must be from 1 to 1000, got 0/],
  [['compare', '--seed', '-1'], /--seed must be/],
  [['compare', '--trace-dir', 'DIR/notes.txt'], /--trace-dir .*notes\.txt: not a directory/],
  [['compare', '--strategy', 'pct'], /--strategy needs --controlled/],
  [['bench', '--runs', '0'], /--runs must be from 1 to 100, got 0/],
  [['bench', '--only', 'nope'], /--only must be one of .* got 'nope'/],
  [['bench', '--duration', '1ms'], /--duration must be from 10ms to 10m, got '1ms'/],
  // stress/fuzz of a module: a bad stimulus declaration is refused before any module init runs,
  // but for a line not in `irqs`: that one is refused once init and probe ran without requesting it.
  [
    ['stress', '--cpus', '1', 'DIR/stim-line.ts'],
    /stimulus\.irqs: line 7 is not one the module requests, in irqs or with request_irq in its init or probe \(it requests: 2;/,
  ],
  [
    ['fuzz', '--cpus', '2', 'DIR/stim-late.ts'],
    /module 'stim-late': stimulus\.irqs: line 6 is not one the module requests, .* \(it requests: 2, 5;/,
  ],
  [
    ['stress', '--cpus', '1', 'DIR/stim-nodevice.ts'],
    /stimulus\.irqs: '40' is not a device line \(2 to 31\)/,
  ],
  [['stress', '--cpus', '1', 'DIR/stim-rate.ts'], /stimulus\.irqs\[2\]\.rate: -5 is not a rate/],
  [
    ['fuzz', '--cpus', '1', 'DIR/stim-task.ts'],
    /stimulus\.tasks: 'nope' is not one of the module's tasks \(it has: reader\)/,
  ],
  [['stress', '--cpus', '1', 'DIR/stim-weight.ts'], /stimulus\.tasks\.reader: 'lots' is not a weight/],
  [
    ['stress', '--cpus', '1', 'DIR/stim-lifecycle.ts'],
    /stimulus\.lifecycle: true needs probe and remove \(the module has no remove\)/,
  ],
  [['stress', '--cpus', '1', hello], /module 'hello' declares no stimulus/],
  [['stress', '--mix', 'sched=1', hello], /--mix is for the built-in workload, not for a module/],
  [['stress', '--warn', 'continue'], /--warn needs a MODULE/],
  [
    ['replay', 'DIR/module-repro.json'],
    /replay .*module-repro\.json: module repro version 9 is not supported \(this build reads 1 to 4\)/,
  ],
  [['stress', '--warn', 'never', hello], /--warn must be one of fail, continue, got 'never'/],
  [['bench', '--load', '2:cpu'], /--load must be N, N:hog or N:machine .* got '2:cpu'/],
  [['bench', '--load', '0'], /--load must be N, N:hog or N:machine .* got '0'/],
  [
    ['bench', '--json', 'DIR/notes.txt/x.json'],
    /--json .*notes\.txt\/x\.json: .*notes\.txt is not a directory/,
  ],
];

/**
 * The CLI to run: the build when it is current (it starts in a third of the time), else the
 * sources. A case that loads a module file runs the sources: inside the repository the build
 * cannot boot a module file (its CPUs fail to set the module up; from an installed package
 * they do, see package.test.ts).
 */
let built = false;
const loadsModule = (args: string[]): boolean => args.some((a) => /\.(ts|mjs)$/.test(a));

function cli(args: string[]): Promise<Outcome> {
  const entry = built && !loadsModule(args) ? 'dist/cli/main.js' : 'cli/bin.mjs';
  return runNode([entry, ...args], { cwd: root, killAfterMs: 30_000 });
}

/** Runs every case, `limit` at a time (each is a Node process loading the CLI). */
async function runAll(limit: number): Promise<Outcome[]> {
  const results: Outcome[] = new Array(CASES.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < CASES.length) {
      const i = next++;
      results[i] = await cli(CASES[i][0].map((a) => a.replace(/^DIR/, dir)));
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

describe('bad command lines', () => {
  let results: Outcome[] = [];

  beforeAll(async () => {
    built = await distIsCurrent();
    dir = mkdtempSync(join(tmpdir(), 'tasklet-rt-bad-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n'); // .ts files there are ES modules
    writeFileSync(join(dir, 'syntax.ts'), 'export default {\n  name: "x",,,\n');
    writeFileSync(join(dir, 'syntax.mjs'), 'export default {\n  name: "x",,,\n');
    writeFileSync(join(dir, 'nodefault.ts'), 'export const x = 1;\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a module\n');
    mkdirSync(join(dir, 'dir.ts'));
    const stim = (name: string, extra: string, stimulus: string): void =>
      writeFileSync(
        join(dir, `${name}.ts`),
        `import { defineModule } from 'tasklet-rt';\nexport default defineModule({ name: '${name}', irqs: { 2: { name: 'dev', handler: () => {} } }, tasks: { *reader() {} },${extra} stimulus: ${stimulus} });\n`,
      );
    writeFileSync(join(dir, 'module-repro.json'), '{"format":"tasklet-rt-module-repro","version":9}\n');
    stim('stim-line', '', '{ irqs: { 7: { rate: 10 } } }');
    stim('stim-nodevice', '', '{ irqs: { 40: { rate: 10 } } }');
    // Its probe requests line 5 (a driver's request_irq), not the 6 its stimulus names.
    writeFileSync(
      join(dir, 'stim-late.ts'),
      `import { defineModule, request_irq } from 'tasklet-rt';\nfunction late_handler() {}\nexport default defineModule({ name: 'stim-late', callbacks: [late_handler], irqs: { 2: { name: 'dev', handler: () => {} } }, probe() { request_irq(5, late_handler, 'late'); }, stimulus: { irqs: { 5: { rate: 10 }, 6: { rate: 10 } } } });\n`,
    );
    stim('stim-rate', '', '{ irqs: { 2: { rate: -5 } } }');
    stim('stim-task', '', '{ tasks: { nope: 1 } }');
    stim('stim-weight', '', "{ tasks: { reader: 'lots' as unknown as number } }");
    stim('stim-lifecycle', ' probe() {},', '{ lifecycle: true }');
    results = await runAll(4);
  }, 300_000); // a cap for a loaded host (each case is a Node process)
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c, i) => [c[0].join(' '), i] as const))('%s → one line, exit 2', (_name, i) => {
    const r = results[i];
    const lines = r.stderr.trimEnd().split('\n');
    expect({ code: r.code, lines: lines.length }, r.stderr).toEqual({ code: 2, lines: 1 });
    expect(lines[0]).toMatch(/^tasklet-rt: /);
    expect(lines[0]).toMatch(CASES[i][1]);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe(''); // rejected before anything ran (nothing booted printed)
  });
});
