/** Summaries over repeated runs: the median is the figure, min and max show the spread. */

export interface Stat {
  median: number;
  min: number;
  max: number;
  /** Every run's value, in run order. */
  values: number[];
}

export function summarize(values: number[]): Stat {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, values };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], values };
}

/** Runs `once` `runs` times in a row and summarizes each named figure it returns. */
export async function repeat<K extends string>(
  runs: number,
  once: () => Promise<Record<K, number>>,
): Promise<Record<K, Stat>> {
  const results: Record<K, number>[] = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  const keys = Object.keys(results[0]) as K[];
  return Object.fromEntries(keys.map((k) => [k, summarize(results.map((r) => r[k]))])) as Record<K, Stat>;
}
