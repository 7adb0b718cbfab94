/**
 * Host load beside a bench run (`bench --load`), so a loaded-host figure is measured the same
 * way every time: plain hogs (worker threads in a busy loop that never sleeps) and other
 * running machines (a `stress` run of the CLI in a child process: emulated CPUs that sleep,
 * wake, poll and spin, as other machines on a shared host do).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export type LoadKind = 'hog' | 'machine';

export interface LoadPart {
  kind: LoadKind;
  /** Hog threads, or the CPUs of the other machine. */
  threads: number;
}

/** "2", "2:hog", "2:machine", or a comma list of them; null when malformed (the CLI says so). */
export function parseLoad(spec: string): LoadPart[] | null {
  const parts: LoadPart[] = [];
  for (const item of spec.split(',')) {
    const match = /^(\d+)(?::(hog|machine))?$/.exec(item.trim());
    if (match === null) return null;
    const threads = Number(match[1]);
    if (threads < 1 || threads > 64) return null;
    parts.push({ kind: (match[2] as LoadKind | undefined) ?? 'hog', threads });
  }
  return parts.length > 0 ? parts : null;
}

export function describeLoad(parts: readonly LoadPart[]): string {
  if (parts.length === 0) return 'none';
  return parts
    .map((p) =>
      p.kind === 'hog'
        ? `${p.threads} busy thread${p.threads > 1 ? 's' : ''}`
        : `a ${p.threads}-CPU stress machine`,
    )
    .join(' + ');
}

const HOG = `
const { workerData } = require('node:worker_threads');
const stop = new Int32Array(workerData);
let x = 0;
while (Atomics.load(stop, 0) === 0) for (let i = 0; i < 1e5; i++) x = (x + i) | 0;
`;

/** The CLI entry this code runs under: the sources' bin.mjs (tsx) or the build's main.js. */
function cliEntry(): string {
  const fromSources = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSources ? '../cli/bin.mjs' : '../cli/main.js', import.meta.url));
}

/** Starts the load; resolves once it runs (the machines have booted); returns its stop. */
export async function startLoad(parts: readonly LoadPart[]): Promise<() => Promise<void>> {
  const stopWord = new Int32Array(new SharedArrayBuffer(4));
  const hogs: Worker[] = [];
  const children: ChildProcess[] = [];
  for (const part of parts) {
    if (part.kind === 'hog') {
      for (let i = 0; i < part.threads; i++)
        hogs.push(new Worker(HOG, { eval: true, workerData: stopWord.buffer }));
      continue;
    }
    const child = spawn(
      process.execPath,
      [cliEntry(), 'stress', '--cpus', String(part.threads), '--duration', '1h', '--quiet', '--seed', '1'],
      { stdio: 'ignore' },
    );
    children.push(child);
  }
  // A stress machine boots in well under two seconds; its workload then runs until stopped.
  if (children.length > 0) await new Promise((r) => setTimeout(r, 2000));
  return async () => {
    Atomics.store(stopWord, 0, 1);
    await Promise.all(hogs.map((w) => w.terminate()));
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  };
}
