/** Reading the per-CPU interval logs back on the controller. */
import { INTERVAL_KINDS, type IntervalKind, LOG_CAPACITY, LOG_RECORD, W_LOG, W_LOG_LEN } from './layout.ts';

export interface Interval {
  cpu: number;
  kind: IntervalKind;
  start: number;
  end: number;
}

export function readIntervals(words: Int32Array, cpus: number): Interval[] {
  const out: Interval[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    const n = Math.min(Atomics.load(words, W_LOG_LEN + cpu), LOG_CAPACITY);
    for (let slot = 0; slot < n; slot++) {
      const at = W_LOG + (cpu * LOG_CAPACITY + slot) * LOG_RECORD;
      const kind = INTERVAL_KINDS[Atomics.load(words, at) - 1];
      if (kind !== undefined)
        out.push({ cpu, kind, start: Atomics.load(words, at + 1), end: Atomics.load(words, at + 2) });
    }
  }
  return out;
}
