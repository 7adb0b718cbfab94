import { createRequire } from 'node:module';

/** This package's version, from its own package.json (the sources and the build find it alike). */
export function packageVersion(): string {
  const manifest = createRequire(import.meta.url)('tasklet-rt/package.json') as { version: string };
  return manifest.version;
}
