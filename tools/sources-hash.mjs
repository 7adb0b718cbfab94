// One hash over everything the build compiles or copies (the tsconfig.build.json folders and
// the files that steer the build). tools/build.mjs writes it to dist/.sources-hash; tests that can
// run the build instead of the sources compare it, so they never run a stale dist/.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

export function sourcesHash(root) {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
  const hash = createHash('sha256');
  const steering = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tools/build.mjs'];
  const sources = config.include.flatMap((dir) => [...files(join(root, dir))]);
  for (const file of [...steering.map((f) => join(root, f)), ...sources]) {
    hash.update(relative(root, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}
