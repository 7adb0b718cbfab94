/**
 * Prepares a CPU worker to import modules from anywhere on disk: `tasklet-rt` resolves to this
 * runtime (resolve-hook.mjs), and TypeScript loads through tsx. From the sources, cpu.mjs has
 * registered tsx already; the built package registers it only when a TypeScript file is loaded.
 */
import { register } from 'node:module';

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
  if (!hooked) {
    register(new URL('./resolve-hook.mjs', import.meta.url), { data: { entries: runtimeEntries() } });
    hooked = true;
  }
  if (!typescript && urls.some((url) => TYPESCRIPT.test(url))) {
    const tsx = await import('tsx/esm/api');
    tsx.register();
    typescript = true;
  }
}
