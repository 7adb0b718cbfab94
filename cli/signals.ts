/**
 * SIGINT/SIGTERM end a run early with exit 130/143. A command that can print a partial report
 * claims the signals with onTermination (it stops its machine, reports, and exits); for any
 * other command the fallback exits at once, which also ends every worker thread. A closed
 * stdout (`| head`) ends a run the same way, but with the exit status of what it did.
 */
import { stdoutClosed, watchClosedPipes } from './closed-pipe.ts';

export interface Termination {
  /** Resolves on the first signal, or when stdout's reader goes away. */
  signalled: Promise<void>;
  /** 130 after SIGINT, 143 after SIGTERM, undefined if no signal came. */
  exitCode(): number | undefined;
  /** The signal's name, once one came. */
  signal(): NodeJS.Signals | undefined;
  /** Why the run ended early: "interrupted by SIGINT", "stdout closed". */
  reason(): string;
  dispose(): void;
}

const EXIT_CODES: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/** Commands that currently handle signals themselves. */
let claims = 0;
/** Whether the command claimed them at all: it then also ends on its own when stdout closes. */
let claimedOnce = false;

export function onTermination(): Termination {
  let received: NodeJS.Signals | undefined;
  let resolve: () => void = () => {};
  const signalled = new Promise<void>((r) => {
    resolve = r;
  });
  const finish = (signal: 'SIGINT' | 'SIGTERM'): void => {
    if (received !== undefined) process.exit(EXIT_CODES[signal]); // a second signal: leave at once
    received = signal;
    resolve();
  };
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGINT', () => finish('SIGINT')],
    ['SIGTERM', () => finish('SIGTERM')],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  stdoutClosed.then(resolve);
  claims++;
  claimedOnce = true;
  let disposed = false;
  return {
    signalled,
    exitCode: () => (received === undefined ? undefined : EXIT_CODES[received as 'SIGINT' | 'SIGTERM']),
    signal: () => received,
    reason: () => (received === undefined ? 'stdout closed' : `interrupted by ${received}`),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      claims--;
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}

/**
 * For commands that do not claim the signals (selftest, bench, ...): say so and exit now. Once
 * nobody reads their output, they exit at once too, quietly, with the status so far.
 */
export function installFallbackTermination(): void {
  watchClosedPipes();
  stdoutClosed.then(() => {
    if (!claimedOnce) process.exit();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (claims > 0) return;
      process.stderr.write(`tasklet-rt: interrupted by ${signal}\n`);
      process.exit(EXIT_CODES[signal]);
    });
  }
}
