/**
 * Boot time from the compiled package: bench/boot/boot-probe.mjs in a child process (a fresh
 * Node, as a user's program starts) boots 1..n CPUs from dist/. Skipped, with a note, when there
 * is no build (`npm run build`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BootRow } from '../results.ts';

/** dist/machine/index.js: beside bench/ in the build, under the package root from the sources. */
function builtMachine(): string | null {
  const fromSources = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(
    new URL(fromSources ? '../../dist/machine/index.js' : '../../machine/index.js', import.meta.url),
  );
  return existsSync(path) ? path : null;
}

function probe(machine: string, cpus: number, repeats: number): Promise<number> {
  const script = fileURLToPath(new URL('./boot-probe.mjs', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, pathToFileURL(machine).href, String(cpus), String(repeats)],
      { timeout: 60_000 },
      (error, stdout) => {
        if (error) return reject(error);
        resolve((JSON.parse(stdout) as { ms: number }).ms);
      },
    );
  });
}

/** Median boot of each CPU count from the build, or null without one. */
export async function measureBuiltBoot(counts: number[], repeats: number): Promise<BootRow[] | null> {
  const machine = builtMachine();
  if (machine === null) return null;
  const rows: BootRow[] = [];
  for (const cpus of counts) {
    const ms = await probe(machine, cpus, repeats);
    rows.push({ from: 'build', cpus, ms, msPerCpu: ms / cpus });
  }
  return rows;
}
