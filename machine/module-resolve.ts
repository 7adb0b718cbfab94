/**
 * What a CPU worker imports for a module or preload given to Machine.boot: a path (resolved
 * against the current directory), a file:, data: or node: URL, or a package name.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The root of this runtime's own files: the repository, or the package's dist/. */
const runtimeRoot = new URL('../', import.meta.url).href;
const built = import.meta.url.endsWith('.js');

export function moduleUrl(spec: string | URL): string {
  const url = toUrl(spec);
  // The runtime names its own modules by their source files (harness/stress/workload.ts); in the
  // build they are .js, as tsc rewrites import specifiers.
  if (built && url.startsWith(runtimeRoot) && url.endsWith('.ts')) return `${url.slice(0, -3)}.js`;
  return url;
}

function toUrl(spec: string | URL): string {
  if (spec instanceof URL) return spec.href;
  if (/^(file|data|node):/.test(spec)) return spec;
  if (spec.startsWith('.') || isAbsolute(spec)) return pathToFileURL(resolve(spec)).href;
  return spec;
}
