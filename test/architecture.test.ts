/**
 * The folder table of docs/architecture.md, checked: every relative import and every import of
 * the package goes only where its folder may go, and no kernel-side file touches Atomics or the
 * raw buffer outside the door.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const PACKAGE = 'tasklet-rt';
const EVERYTHING = ['shm', 'kernel', 'control', 'cpu', 'machine', 'harness', 'bench', 'cli', PACKAGE];

/** Folder → the folders (and the package) its files may import, besides its own. */
const MAY_IMPORT: Record<string, string[]> = {
  shm: [],
  kernel: ['shm'],
  control: ['shm'],
  cpu: ['kernel', 'control', 'shm'],
  machine: ['kernel', 'control', 'shm'],
  harness: ['machine', 'kernel', 'control', 'shm', PACKAGE],
  modules: [PACKAGE],
  examples: [PACKAGE],
  bench: ['machine', 'shm', PACKAGE],
  cli: EVERYTHING,
  test: [...EVERYTHING, 'modules', 'examples', 'tools'],
};

/** Module code may use Atomics on its own shared_words; the kernel's state is the door's alone. */
const KERNEL_SIDE = ['kernel', 'cpu'];

function sourceFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  return out.split('\n').filter((f) => /\.(ts|mts|mjs)$/.test(f) && !f.endsWith('.d.mts'));
}

function importsOf(file: string): string[] {
  const text = readFileSync(resolve(root, file), 'utf8');
  return [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g,
    ),
  ].map((m) => m[1] ?? m[2]);
}

/** The folder an import lands in, the package, or null for a node built-in or a dependency. */
function targetOf(file: string, spec: string): string | null {
  if (spec === PACKAGE || spec.startsWith(`${PACKAGE}/`)) return PACKAGE;
  if (!spec.startsWith('.')) return null;
  return relative(root, resolve(root, dirname(file), spec)).split('/')[0];
}

describe('architecture', () => {
  const files = sourceFiles();

  it('every folder imports only what docs/architecture.md allows', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const folder = file.split('/')[0];
      const allowed = MAY_IMPORT[folder];
      if (allowed === undefined) continue; // root config files
      for (const spec of importsOf(file)) {
        const target = targetOf(file, spec);
        if (target === null || target === folder || allowed.includes(target)) continue;
        wrong.push(`${file} imports ${spec} (${folder}/ may not import ${target})`);
      }
    }
    expect(files.length).toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });

  it('kernel-side code touches shared memory only through shm/door.ts', () => {
    const wrong: string[] = [];
    for (const file of files) {
      if (!KERNEL_SIDE.includes(file.split('/')[0])) continue;
      const text = readFileSync(resolve(root, file), 'utf8').replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '');
      if (/\bAtomics\b/.test(text)) wrong.push(`${file} uses Atomics`);
      for (const spec of importsOf(file))
        if (spec.endsWith('shm/memory.ts')) wrong.push(`${file} imports ${spec}`);
    }
    expect(wrong).toEqual([]);
  });
});
