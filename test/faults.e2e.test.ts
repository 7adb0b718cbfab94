/**
 * Faults end to end through the CLI: an oops in a tasklet, an irq handler or a softirq action,
 * a soft lockup, a hung task, a dying worker, a module that throws while loading, and SIGINT.
 * Every case must end by itself with a report and exit code (never a silent hang); bounds are
 * generous, nothing here measures speed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const mod = (name: string): string => `test/modules/faults-${name}.ts`;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from spawn to exit */
  ms: number;
  /** ms from spawn to the first output line matching `mark`, if given */
  markMs?: number;
}

/** At most this many CLIs at once: each boots worker threads, and the host may have 2 cores. */
const CONCURRENCY = 3;
let running = 0;
const queue: (() => void)[] = [];

async function cli(args: string[], opts: CliOptions = {}): Promise<Outcome> {
  if (running >= CONCURRENCY) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    return await spawnCli(args, opts);
  } finally {
    running--;
    queue.shift()?.();
  }
}

interface CliOptions {
  limitMs?: number;
  /** Output to wait for; `onMark` then sees the child (to signal it). */
  mark?: RegExp;
  onMark?: (child: ChildProcess) => void;
}

/** Runs `tasklet-rt ARGS`; killed after `limitMs` so a hang fails the test instead of stalling it. */
function spawnCli(args: string[], opts: CliOptions): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['cli/bin.mjs', ...args], { cwd: root });
    const out: Outcome = { code: null, signal: null, stdout: '', stderr: '', ms: 0 };
    const seen = (): void => {
      if (opts.mark && out.markMs === undefined && opts.mark.test(out.stdout + out.stderr)) {
        out.markMs = performance.now() - started;
        opts.onMark?.(child);
      }
    };
    child.stdout.on('data', (d) => {
      out.stdout += d;
      seen();
    });
    child.stderr.on('data', (d) => {
      out.stderr += d;
      seen();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.limitMs ?? 40_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      Object.assign(out, { code, signal, ms: performance.now() - started });
      resolve(out);
    });
  });
}

// Off where a test does not need it: a starved host must not turn into a false soft lockup.
const quiet = ['--watchdog-thresh', '0', '--hung-task-timeout', '0'];

describe.concurrent('faults through the CLI', () => {
  it('a throwing tasklet callback: Oops naming CPU, context, tasklet and stack; the run stops, exit 3', async () => {
    const r = await cli(['run', '--cpus', '2', '--duration', '30s', ...quiet, mod('throw')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/Oops: Error: faults_throw_fn: run 1 failed \[#1\]/);
    expect(r.stderr).toMatch(/CPU: \d context: softirq \(tasklet\) culprit: tasklet faults_throw/);
    expect(r.stderr).toMatch(/Call Trace:\n\s+at faults_throw_fn \(.*faults-throw\.ts:\d+:\d+\)/);
    expect(r.stderr).not.toMatch(/\[#2\]/); // panic: the first oops ends the run
    expect(r.stdout).toMatch(/run: [\d.]+ s, 1 oops, 0 faults.*Kernel panic - not syncing/);
  });

  it('--oops=continue: every oops is reported and counted, the run goes on to its end, exit 3', async () => {
    const r = await cli([
      'run',
      '--cpus',
      '2',
      '--duration',
      '2s',
      '--oops=continue',
      ...quiet,
      mod('throw'),
    ]);
    expect(r.code).toBe(3);
    for (const n of [1, 2, 3]) expect(r.stderr).toContain(`faults_throw_fn: run ${n} failed [#${n}]`);
    expect(r.stdout).toMatch(/run: [\d.]+ s, 3 oopses, 0 faults.*ran for the whole duration/);
  });

  it('a throwing irq handler and softirq action: each an Oops in its own context, and the CPU lives on', async () => {
    const r = await cli(['run', '--cpus', '2', '--duration', '2s', '--oops=continue', ...quiet, mod('irq')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /Oops: Error: faults_interrupt: device on fire \[#\d\]\nCPU: 0 context: hardirq culprit: irq 2 \(faults\)/,
    );
    expect(r.stderr).toMatch(
      /Oops: Error: faults_net_rx_action: bad packet \[#\d\]\nCPU: 0 context: softirq culprit: NET_RX softirq action/,
    );
    // irq_exit still ran after the handler's oops: the softirq raised in init was served.
    expect(r.stdout).toMatch(/run: [\d.]+ s, 2 oopses, 0 faults.*ran for the whole duration/);
    expect(r.stdout).toMatch(/NET_RX:\s+[1-9]/);
  });

  it('an endless callback: soft lockup reported as the kernel does, exit 3 soon after the threshold', async () => {
    const r = await cli(
      [
        'run',
        '--cpus',
        '1',
        '--duration',
        '30s',
        '--watchdog-thresh',
        '1',
        '--hung-task-timeout',
        '0',
        mod('loop'),
      ],
      { mark: /looping forever/ },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /watchdog: BUG: soft lockup - CPU#0 stuck for [12]s! \[(ksoftirqd\/0:10|swapper\/0:0|insmod:\d+)\]/,
    );
    expect(r.stdout).toMatch(/run: [\d.]+ s, 0 oopses, 1 fault.*soft lockup/);
    expect(r.markMs).toBeDefined();
    // Bounded, not timed: far less than the 30 s duration (threshold 1 s + 1 s, plus a busy host's slack).
    expect(r.ms - r.markMs!).toBeLessThan(15_000);
  });

  it('tasklet_kill of a disabled, scheduled tasklet: hung-task report naming the task and what it waits on, exit 3', async () => {
    const r = await cli([
      'run',
      '--cpus',
      '2',
      '--duration',
      '30s',
      '--watchdog-thresh',
      '0',
      '--hung-task-timeout',
      '1',
      mod('hung'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/INFO: task insmod:\d+ blocked for more than 1 seconds\./);
    expect(r.stderr).toMatch(
      // RUN may be caught set: tasklet_action holds it briefly each time it finds the tasklet disabled
      /CPU0: in tasklet_kill, waiting for SCHED of tasklet faults_hung to clear \(state SCHED(\|RUN)?, disable count 1\)/,
    );
    expect(r.ms).toBeLessThan(25_000);
  });

  it('process.exit in module code: the dead CPU is reported, the others stopped, exit 3', async () => {
    const r = await cli(['run', '--cpus', '2', '--duration', '30s', ...quiet, mod('exit')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('CPU0 worker exited unexpectedly (code 7)');
    expect(r.stdout).toMatch(/run: [\d.]+ s, 0 oopses, 1 fault.*CPU0 worker exited unexpectedly/);
    expect(r.ms).toBeLessThan(25_000);
  });

  it('a module that throws while loading: one clear boot-failure line, exit 3', async () => {
    const r = await cli(['run', '--cpus', '2', '--duration', '30s', ...quiet, mod('toplevel')]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^tasklet-rt: boot failed: CPU\d worker crashed: faults-toplevel: cannot find my device$/,
      ),
    ]);
  });

  it('SIGINT to stress: partial report, exit 130, and the process (with every worker) is gone', async () => {
    const r = await cli(['stress', '--cpus', '2', '--duration', '60s', ...quiet], {
      mark: /\[\s+1s\]/, // the first stats line: booted and running
      onMark: (child) => child.kill('SIGINT'),
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/result: INTERRUPTED/);
    expect(r.ms - r.markMs!).toBeLessThan(15_000);
  });

  it('SIGTERM to run: partial report, exit 143', async () => {
    const r = await cli(['run', '--cpus', '2', '--duration', '60s', ...quiet, 'examples/hello.ts'], {
      mark: /hello: loaded/,
      onMark: (child) => child.kill('SIGTERM'),
    });
    expect(r.code).toBe(143);
    expect(r.stdout).toMatch(/run: [\d.]+ s, 0 oopses, 0 faults.*interrupted by SIGTERM/);
  });
});
