/**
 * Loads one module file on a CPU. A file that is not a usable module (missing, unknown kind,
 * a syntax error, no `export default defineModule(...)`) throws a BadModuleError, which the
 * controller reports as bad input; an exception thrown by the module's own top-level code
 * passes through unchanged (a boot failure).
 */
import { fileURLToPath } from 'node:url';
import { loaded_modules } from '../kernel/module.ts';

/** Crosses the thread boundary by its own `name` property (structured clone keeps it). */
function badModule(url: string, why: string): Error {
  const error = new Error(`${url.startsWith('file:') ? fileURLToPath(url) : url}: ${why}`);
  error.name = 'BadModuleError';
  return error;
}

const NOT_LOADABLE = new Set([
  'ERR_MODULE_NOT_FOUND',
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_REQUIRE_CYCLE_MODULE',
]);

export async function load_module(url: string): Promise<void> {
  let namespace: { default?: unknown };
  try {
    namespace = await import(url);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const code = (e as { code?: unknown }).code;
    // tsx reports a TypeScript syntax error as "Transform failed with 1 error:\nFILE:L:C: ERROR: ..."
    if (e instanceof SyntaxError || e.message.startsWith('Transform failed')) {
      const detail = e.message.split('\n').find((line) => line.includes('ERROR:')) ?? e.message;
      throw badModule(url, `syntax error: ${detail.replace(/^.*ERROR: /, '')}`);
    }
    if (typeof code === 'string' && NOT_LOADABLE.has(code)) throw badModule(url, e.message.split('\n')[0]);
    throw e;
  }
  if (!loaded_modules().includes(namespace.default as never)) {
    throw badModule(url, 'not a tasklet-rt module (no `export default defineModule({...})`)');
  }
}
