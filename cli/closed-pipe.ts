/**
 * `tasklet-rt stress | head -3`: once the reader of stdout is gone, a write fails with EPIPE,
 * which would end the process with a stack trace and exit status 1 (a violation's). Instead the
 * output is dropped from then on and `stdoutClosed` resolves, so that a command can end as it
 * would when interrupted, with the exit status of what it did.
 */
let closed: () => void = () => {};

/** Resolves when stdout's reader has gone away. */
export const stdoutClosed = new Promise<void>((resolve) => {
  closed = resolve;
});

const drop = ((...args: unknown[]) => {
  const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
  callback?.();
  return true;
}) as typeof process.stdout.write;

export function watchClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
      stream.write = drop;
      if (stream === process.stdout) closed();
    });
  }
}
