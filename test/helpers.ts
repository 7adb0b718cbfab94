/** Shared test plumbing: boot a machine with the probe module, poll for conditions. */
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { Machine, type MachineOptions } from '../runtime/index.ts';

export const probeModule = fileURLToPath(new URL('./modules/probe.ts', import.meta.url));
export const jitModule = fileURLToPath(new URL('../modules/jit.ts', import.meta.url));
export const loadModule = fileURLToPath(new URL('../modules/load.ts', import.meta.url));

let booted: Machine | null = null;

afterEach(async () => {
  await booted?.shutdown();
  booted = null;
});

/** Boots a machine (shut down after the test) with the probe module unless modules are given. */
export async function boot(options: MachineOptions = {}): Promise<Machine> {
  booted = await Machine.boot({ cpus: 2, modules: [probeModule], onPrintk: () => {}, ...options });
  return booted;
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface ProbeSnapshot {
  runs: number;
  lastCpu: number;
  overlaps: number;
  context: number;
  seq: number;
  data: number;
  cpuMask: number;
  state: number;
  count: number;
}

export const probe = (m: Machine, id: number, cpu = 0): Promise<ProbeSnapshot> =>
  m.call(cpu, 'get', { id }) as Promise<ProbeSnapshot>;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
