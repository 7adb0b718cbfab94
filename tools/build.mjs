// Builds the package into dist/: tsc compiles the sources (tsconfig.build.json rewrites their
// `.ts` import specifiers to `.js`), then this script does the two things tsc does not:
// - the declarations keep `.ts` specifiers (TypeScript 5 resolves them, older versions do not):
//   rewrite them to `.js` as in the JavaScript;
// - plain `.mjs` files (worker entries, the module-resolution hook) are copied as they are;
// - the package's bin is made executable (npm does that at install; a rebuild must too, or
//   `npx tasklet-rt` in this directory fails with "Permission denied").
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourcesHash } from './sources-hash.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const config = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
/** Bootstraps that register tsx to run the sources; the build runs without them. */
const SOURCE_ONLY = new Set([
  'cli/bin.mjs',
  'cpu/cpu.mjs',
  'harness/fuzz/job-entry.mjs',
  'harness/stress/job-entry.mjs',
]);

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

const relativeTs = /((?:from |import\()['"]\.{1,2}\/[^'"]*)\.ts(['"])/g;
for (const file of files(dist)) {
  if (!file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(relativeTs, '$1.js$2');
  if (rewritten !== text) writeFileSync(file, rewritten);
}

let copied = 0;
for (const dir of config.include) {
  for (const file of files(join(root, dir))) {
    const name = relative(root, file).split('\\').join('/');
    if (!/\.(mjs|d\.mts)$/.test(name) || SOURCE_ONLY.has(name)) continue;
    mkdirSync(dirname(join(dist, name)), { recursive: true });
    copyFileSync(file, join(dist, name));
    copied++;
  }
}
const { bin = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of Object.values(bin)) chmodSync(join(root, file), 0o755);
writeFileSync(join(dist, '.sources-hash'), `${sourcesHash(root)}\n`);

// stderr: `npm pack --json` runs this (prepare) and prints its JSON on stdout.
console.error(`built ${relative(process.cwd(), dist) || 'dist'}/ (and copied ${copied} .mjs files)`);
