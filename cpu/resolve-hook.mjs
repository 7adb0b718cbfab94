// Module resolution hooks for a CPU worker (node:module register; they run on Node's hooks
// thread, so this is plain JavaScript in the sources too).
// - `tasklet-rt` in a module means this runtime: it maps to the entry the worker itself runs,
//   wherever the module lies and whatever copy of tasklet-rt its own node_modules may hold. A
//   second copy would have its own, unattached machine state.
// - A TypeScript module outside node_modules is an ES module even where package.json says
//   CommonJS (or nothing): a tasklet-rt module is `export default defineModule(...)`, and tsx
//   would otherwise compile it to CommonJS, which then cannot import the runtime.

/** @type {Record<string, string>} specifier → URL */
let entries = {};

/** @param {{ entries: Record<string, string> }} data */
export function initialize(data) {
  entries = data.entries;
}

const TYPESCRIPT = /\.tsx?$/;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(entries[specifier] ?? specifier, context);
  const { url, format } = resolved;
  if (
    url.startsWith('file:') &&
    TYPESCRIPT.test(new URL(url).pathname) &&
    !url.includes('/node_modules/') &&
    format !== 'module'
  ) {
    return { ...resolved, format: 'module' };
  }
  return resolved;
}
