/** SIGINT/SIGTERM end a run early: the command stops the machine, reports, and exits 130/143. */
export interface Termination {
  /** Resolves on the first signal. */
  signalled: Promise<void>;
  /** 130 after SIGINT, 143 after SIGTERM, undefined if no signal came. */
  exitCode(): number | undefined;
  dispose(): void;
}

export function onTermination(): Termination {
  let code: number | undefined;
  let resolve: () => void = () => {};
  const signalled = new Promise<void>((r) => {
    resolve = r;
  });
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGINT', () => finish(130)],
    ['SIGTERM', () => finish(143)],
  ];
  const finish = (exitCode: number): void => {
    if (code !== undefined) process.exit(exitCode); // a second signal: leave at once
    code = exitCode;
    resolve();
  };
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return {
    signalled,
    exitCode: () => code,
    dispose: () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
