/** Number formatting shared by the terminal, Markdown and HTML reports. */
import type { Stat } from '../stats.ts';

export function rate(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

export function micros(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

/** "median (min–max)"; a unit all three share is written once: "1.15 M (1.12–1.18)". */
export function spread(s: Stat, fmt: (n: number) => string): string {
  if (s.values.length <= 1) return fmt(s.median);
  const [median, min, max] = [fmt(s.median), fmt(s.min), fmt(s.max)];
  const unit = (text: string) => / \S+$/.exec(text)?.[0] ?? '';
  const shared = unit(median);
  if (shared !== '' && unit(min) === shared && unit(max) === shared)
    return `${median} (${min.slice(0, -shared.length)}–${max.slice(0, -shared.length)})`;
  return `${median} (${min}–${max})`;
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export function params(p: Record<string, string | number | boolean>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
