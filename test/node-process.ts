/**
 * Runs a Node script as a child process, asynchronously. Tests must not use spawnSync for long
 * commands: a vitest worker blocked past 60 s misses the reply to its own `onTaskUpdate` call
 * (Node runs expired timers before it reads the reply), and a run whose tests all pass fails.
 */
import { spawn } from 'node:child_process';

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunNodeOptions {
  cwd?: string;
  /** SIGKILL the child after this long: a hung command fails its test, bounded. */
  killAfterMs?: number;
}

export function runNode(
  args: string[],
  { cwd, killAfterMs = 60_000 }: RunNodeOptions = {},
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd });
    const out: Outcome = { code: null, stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out.stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out.stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      out.code = code;
      resolve(out);
    });
  });
}
