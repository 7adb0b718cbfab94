/**
 * Loads one module file on a CPU. A file that is not a usable module (missing, unknown kind,
 * a syntax error, no `export default defineModule(...)`) throws a BadModuleError, which the
 * controller reports as bad input; an exception thrown by the module's own top-level code
 * passes through unchanged (a boot failure).
 */
import { fileURLToPath } from 'node:url';
import { loaded_modules, type ModuleDefinition, set_module_text } from '../kernel/module.ts';
import { callback_names } from '../kernel/tasklet-table.ts';

/** Crosses the thread boundary by its own `name` property (structured clone keeps it). */
function loadError(message: string): Error {
  const error = new Error(message);
  error.name = 'BadModuleError';
  return error;
}

const pathOf = (url: string): string => (url.startsWith('file:') ? fileURLToPath(url) : url);
const badModule = (url: string, why: string): Error => loadError(`${pathOf(url)}: ${why}`);

/** V8's words for ES module syntax in a file Node loads as CommonJS. */
const COMMONJS_SCOPE = /^Cannot use import statement outside a module|^Unexpected token 'export'/;

/**
 * "FILE:LINE:COLUMN: syntax error: ...", naming the module when the error is in a file it imports.
 * Its helpers load only when a module fails (child_process is a boot cost every CPU would pay).
 */
async function syntaxError(url: string, error: Error): Promise<Error> {
  const { locateJsSyntaxError, tsxSyntaxError } = await import('./syntax-error.ts');
  const path = pathOf(url);
  const site = tsxSyntaxError(error.message) ?? (url.startsWith('file:') ? locateJsSyntaxError(path) : null);
  const hint = COMMONJS_SCOPE.test(error.message)
    ? ' (Node loads this .js file as CommonJS: name it .mjs, or set "type": "module" in its package.json)'
    : '';
  if (site === null) return badModule(url, `syntax error: ${error.message.split('\n')[0]}${hint}`);
  const importer = site.where.startsWith(`${path}:`) ? '' : ` (imported by ${path})`;
  return loadError(`${site.where}: syntax error: ${site.message}${hint}${importer}`);
}

const NOT_LOADABLE = new Set([
  'ERR_MODULE_NOT_FOUND',
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_REQUIRE_CYCLE_MODULE',
]);

export async function load_module(url: string): Promise<void> {
  let namespace: { default?: unknown };
  const textStart = callback_names().length;
  try {
    namespace = await import(url);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const code = (e as { code?: unknown }).code;
    // tsx reports a TypeScript syntax error as "Transform failed with 1 error:\nFILE:L:C: ERROR: ..."
    if (e instanceof SyntaxError || e.message.startsWith('Transform failed')) throw await syntaxError(url, e);
    if (typeof code === 'string' && NOT_LOADABLE.has(code)) throw badModule(url, e.message.split('\n')[0]);
    throw e;
  }
  if (!loaded_modules().includes(namespace.default as never)) {
    throw badModule(url, 'not a tasklet-rt module (no `export default defineModule({...})`)');
  }
  // Its text: the callbacks its file registered as it loaded (what runs from it after its exit is a use-after-free).
  set_module_text(namespace.default as ModuleDefinition, textStart, callback_names().length);
}
