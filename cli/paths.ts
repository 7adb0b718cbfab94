import { fileURLToPath } from 'node:url';

/** Files shipped with tasklet-rt, as absolute paths. */
export const builtinModule = (name: string): string =>
  fileURLToPath(new URL(`../modules/${name}.ts`, import.meta.url));
