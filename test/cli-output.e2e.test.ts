/**
 * The CLI's output channel: --version, and a reader that goes away (`tasklet-rt stress | head
 * -1`). A closed stdout must not crash the command with an EPIPE stack and exit 1 (a
 * violation's status): the run ends early, quietly, with the status of what it did.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from './node-process.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Longer than the test allows: a command that ends did so because its reader left. */
const LONG = '10m';
/** A command still running this long never saw its reader go: the test fails, bounded. */
const KILL_AFTER_MS = 90_000;

interface Outcome {
  code: number | null;
  firstLine: string;
  stderr: string;
}

/** Runs the CLI, reads its first line of output, then closes the pipe, as `| head -1` does. */
function headOne(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['cli/bin.mjs', ...args], { cwd: root });
    const out: Outcome = { code: null, firstLine: '', stderr: '' };
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n') && out.firstLine === '') {
        out.firstLine = stdout.split('\n')[0];
        child.stdout.destroy();
      }
    });
    child.stderr.on('data', (d) => {
      out.stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      out.code = code;
      resolve(out);
    });
  });
}

describe('CLI output', { timeout: KILL_AFTER_MS + 10_000 }, () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(await runNode(['cli/bin.mjs', '--version'], { cwd: root })).toEqual({
      code: 0,
      stdout: `${version}\n`,
      stderr: '',
    });
  });

  it.each([
    ['stress', ['stress', '--cpus', '2', '--duration', LONG], /^tasklet-rt stress: /],
    ['run', ['run', 'examples/hello.ts', '--cpus', '2', '--duration', LONG], /hello: loaded/],
    ['fuzz', ['fuzz', '--cpus', '2', '--duration', LONG, '--out', 'tmp/fuzz-out'], /^tasklet-rt fuzz: /],
    [
      'selftest',
      ['selftest', '--cpus', '2', '--only', 'wrong-cpu', '--budget', '2s'],
      /^tasklet-rt selftest: /,
    ],
  ])('%s | head -1 ends quietly with exit 0', async (_name, args, first) => {
    const result = await headOne(args);
    expect(result.firstLine).toMatch(first);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('keeps the status of what ran: an oops after the pipe closed still exits 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasklet-rt-pipe-'));
    try {
      // One line of output, then a tasklet that throws: nothing is written to stdout in between.
      const module = join(dir, 'oops.ts');
      writeFileSync(
        module,
        `import { DECLARE_TASKLET, defineModule, pr_info, tasklet_schedule } from 'tasklet-rt';
const bad = DECLARE_TASKLET('bad', () => {
  throw new Error('bad tasklet');
});
export default defineModule({ name: 'oops', init() { pr_info('oops: loaded'); tasklet_schedule(bad); } });
`,
      );
      const result = await headOne(['run', module, '--cpus', '1', '--duration', LONG]);
      expect(result.firstLine).toMatch(/oops: loaded/);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/Oops: Error: bad tasklet/);
      expect(result.stderr).not.toMatch(/EPIPE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
