/**
 * Prepares a CPU worker to import modules from anywhere on disk: `tasklet-rt` resolves to this
 * runtime (resolve-hook.mjs), and TypeScript loads through tsx. From the sources, cpu.mjs has
 * registered tsx already; the built package registers it only when a TypeScript file is loaded.
 */
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const fromSources = import.meta.url.endsWith('.ts');
const extension = fromSources ? '.ts' : '.js';
const TYPESCRIPT = /\.[cm]?tsx?([?#]|$)/;

/** The runtime's public entries, as this worker runs them (sources or build). */
function runtimeEntries(): Record<string, string> {
  const entry = (path: string): string => new URL(`../${path}${extension}`, import.meta.url).href;
  return { 'tasklet-rt': entry('kernel/index'), 'tasklet-rt/machine': entry('machine/index') };
}

let hooked = false;
let typescript = fromSources;

/** Call before importing any preload or module; `urls` are what will be imported. */
export async function prepare_module_loading(urls: readonly string[]): Promise<void> {
  // tsx first: Node asks the hook registered last first, and ours must map `tasklet-rt` before
  // tsx sees it. tsx applies the `paths` of a tsconfig.json in the working directory (a clone
  // of this repository maps `tasklet-rt` to its sources), and would load a second runtime.
  if (!typescript && urls.some((url) => TYPESCRIPT.test(url))) {
    const tsx = await import('tsx/esm/api');
    tsx.register();
    typescript = true;
  }
  if (!hooked && needsHooks(urls)) {
    register(new URL('./resolve-hook.mjs', import.meta.url), { data: { entries: runtimeEntries() } });
    hooked = true;
  }
}

/**
 * Whether the resolution hooks are needed. Node runs registered hooks on a thread of their own,
 * one per worker, and every import then waits on it: a third of a built CPU's boot. They are not
 * needed when the worker runs the build and every file to import is JavaScript whose
 * `tasklet-rt` already resolves to this runtime (or there is nothing to import).
 */
function needsHooks(urls: readonly string[]): boolean {
  if (fromSources) return true;
  const entries = runtimeEntries();
  return urls.some((url) => {
    if (TYPESCRIPT.test(url) || !url.startsWith('file:')) return true;
    try {
      const require = createRequire(url);
      return Object.entries(entries).some(
        ([spec, entry]) => pathToFileURL(require.resolve(spec)).href !== entry,
      );
    } catch {
      return true; // not resolvable from there: the hook maps it
    }
  });
}
