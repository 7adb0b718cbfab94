/** Machine options that inject a mutant on every CPU. */
import { fileURLToPath } from 'node:url';
import type { MachineOptions } from '../machine/index.ts';

const preload = fileURLToPath(new URL('./mutant-preload.ts', import.meta.url));

export function injectMutant(mutant: string | undefined): Pick<MachineOptions, 'preload' | 'preloadOptions'> {
  if (mutant === undefined) return {};
  return { preload: [preload], preloadOptions: { mutant } };
}
