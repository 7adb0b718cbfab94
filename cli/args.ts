/** Parsers for command-line values: each rejects a bad value with a message naming it. */
import { InvalidArgumentError } from 'commander';

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

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** "10s", "500ms", "2m", "1h", or a plain number of seconds; returns milliseconds. */
export function duration(name: string, minMs = 1, maxMs = 24 * 3_600_000): (value: string) => number {
  return (value) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)?$/.exec(value.trim());
    if (match === null)
      throw new InvalidArgumentError(`${name} must be a duration like 10s, 500ms or 2m, got '${value}'`);
    const ms = Number(match[1]) * UNITS[match[2] ?? 's'];
    if (ms < minMs || ms > maxMs)
      throw new InvalidArgumentError(
        `${name} must be from ${minMs} ms to ${maxMs / 3_600_000} h, got '${value}'`,
      );
    return ms;
  };
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
