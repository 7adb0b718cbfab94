/**
 * Where a module's syntax error is. tsx names the file, line and column of a TypeScript error
 * in its message; V8's SyntaxError from an ES module has neither (Node prints them only for an
 * uncaught error), so the JavaScript files are checked again with `node --check`, the module
 * and then the relative imports it reaches.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface SyntaxErrorSite {
  /** file:line:column (column when known) */
  where: string;
  message: string;
}

/** tsx: "Transform failed with 1 error:\n/path/mod.ts:3:10: ERROR: Expected ..." */
const TSX_ERROR = /^(.+:\d+:\d+): ERROR: (.*)$/m;

export function tsxSyntaxError(message: string): SyntaxErrorSite | null {
  const match = TSX_ERROR.exec(message);
  return match === null ? null : { where: match[1], message: match[2] };
}

const JAVASCRIPT = /\.[cm]?js$/;
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
/** Enough for any module's own files; a bound on how much an error costs. */
const MAX_FILES = 100;

/** The first JavaScript file, from `entry` through its relative imports, that V8 cannot parse. */
export function locateJsSyntaxError(entry: string): SyntaxErrorSite | null {
  const queue = [entry];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length && i < MAX_FILES; i++) {
    const file = queue[i];
    const site = nodeCheck(file);
    if (site !== null) return site;
    for (const match of readFileSync(file, 'utf8').matchAll(RELATIVE_IMPORT)) {
      const next = resolve(dirname(file), match[1]);
      if (JAVASCRIPT.test(next) && !seen.has(next) && existsSync(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return null;
}

/**
 * `node --check FILE` prints "FILE:LINE\nsource\n   ^\n\nSyntaxError: message", after any warnings
 * (the same module format rules as the import that failed).
 */
function nodeCheck(file: string): SyntaxErrorSite | null {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  if (check.status === 0 || check.stderr === undefined) return null;
  const lines = check.stderr.split('\n');
  const at = lines.findIndex((line) => line.startsWith(`${file}:`)); // after any warnings
  const message = lines.find((line) => line.startsWith('SyntaxError: '));
  if (at < 0 || message === undefined) return null;
  const caret = lines[at + 2]?.indexOf('^') ?? -1;
  return {
    where: caret >= 0 ? `${lines[at]}:${caret + 1}` : lines[at],
    message: message.slice('SyntaxError: '.length),
  };
}
