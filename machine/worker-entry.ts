/**
 * The CPU worker's entry file. From the sources (this repository, under tsx), cpu.mjs registers
 * tsx in the worker, then loads cpu-main.ts; the built package starts cpu-main.js as plain
 * JavaScript.
 */
export function cpuWorkerEntry(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../cpu/cpu.mjs', import.meta.url)
    : new URL('../cpu/cpu-main.js', import.meta.url);
}
