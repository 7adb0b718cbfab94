/** Parsers for command-line values: each rejects a bad value with a message naming it. */
import { statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';

export function integer(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`${name} must be a whole number, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max)
      throw new InvalidArgumentError(`${name} must be from ${min} to ${max}, got ${value}`);
    return n;
  };
}

const COUNT_SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024 };

/** A count of things: 65536, 64k or 1M (binary: k = 1024). */
export function count(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const match = /^(\d+)([km]?)$/i.exec(value.trim());
    if (match === null)
      throw new InvalidArgumentError(`${name} must be a count like 65536, 64k or 1M, got '${value}'`);
    const n = Number(match[1]) * COUNT_SUFFIX[match[2].toLowerCase()];
    if (n < min || n > max)
      throw new InvalidArgumentError(`${name} must be from ${min} to ${max}, got ${value}`);
    return n;
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** "10s", "500ms", "2m", "1h"; returns milliseconds. A bare number is refused: 10 what? */
export function duration(name: string, minMs = 1, maxMs = 24 * 3_600_000): (value: string) => number {
  return (value) => {
    if (/^\d+(?:\.\d+)?$/.test(value.trim()))
      throw new InvalidArgumentError(`${name} needs a unit (10s, 500ms, 2m), got '${value}'`);
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)$/.exec(value.trim());
    if (match === null)
      throw new InvalidArgumentError(`${name} must be a duration like 10s, 500ms or 2m, got '${value}'`);
    const ms = Number(match[1]) * UNITS[match[2]];
    if (ms < minMs || ms > maxMs)
      throw new InvalidArgumentError(
        `${name} must be from ${humanMs(minMs)} to ${humanMs(maxMs)}, got '${value}'`,
      );
    return ms;
  };
}

/** 500ms, 10s, 10m, 24h: the largest unit that divides it. */
function humanMs(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const)
    if (ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  return `${ms}ms`;
}

export function choice<T extends string>(name: string, values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}, got '${value}'`);
    }
    return value as T;
  };
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s` : `${ms}ms`;
}

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** A module file given on the command line: it must exist and look like a module; returns its path. */
export function moduleFile(name: string): (value: string) => string {
  return (value) => {
    const path = resolve(value); // a path, even without ./ (a bare name would mean a package)
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) throw new InvalidArgumentError(`${name}: module file not found: '${value}'`);
    if (!stat.isFile()) throw new InvalidArgumentError(`${name}: '${value}' is not a file`);
    if (!MODULE_EXTENSIONS.includes(extname(path)))
      throw new InvalidArgumentError(
        `${name}: '${value}' is not a module file (expected ${MODULE_EXTENSIONS.join(', ')})`,
      );
    return path;
  };
}

/** Appends to a repeatable/variadic option's list (commander passes the list so far). */
export function each<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

/** The lockup detectors' flags, shared by every command that boots machines. */
export function lockupOptions(): Option[] {
  return [
    new Option('--watchdog-thresh <s>', 'seconds without progress before a soft lockup (0 = off)')
      .argParser(integer('--watchdog-thresh', 0, 3600))
      .default(10),
    new Option('--hung-task-timeout <s>', 'seconds a task may wait on a tasklet before it is hung (0 = off)')
      .argParser(integer('--hung-task-timeout', 0, 86_400))
      .default(120),
  ];
}

export type OopsPolicy = 'panic' | 'continue';

export const oopsOption = (): Option =>
  new Option(
    '--oops <policy>',
    'after an oops: panic (stop, exit 3) or continue (count it, exit 3 at the end)',
  )
    .argParser(choice('--oops', ['panic', 'continue'] as const))
    .default('panic');

/** `module.name=value` (a module parameter, as on the kernel command line; whole numbers). */
export function moduleParam(name: string): (value: string) => [string, number] {
  return (value) => {
    const match = /^([\w-]+\.[\w-]+)=(-?\d+)$/.exec(value.trim());
    if (match === null)
      throw new InvalidArgumentError(
        `${name} must look like module.name=number (jit.tdelay=10), got '${value}'`,
      );
    return [match[1], Number(match[2])];
  };
}

/** The --param list as the Machine option `params`. */
export function paramRecord(list: readonly [string, number][] | undefined): Record<string, number> {
  return Object.fromEntries(list ?? []);
}
