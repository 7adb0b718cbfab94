/** Latency histograms (nanoseconds inside, microseconds out) and their summaries. */
import * as hdr from 'hdr-histogram-js';
import { newHistogram } from './modules/latency-recorder.ts';

export { newHistogram };

const DISTRIBUTION_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100];

export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const us = (ns: number): number => ns / 1000;

export function percentilesUs(h: hdr.Histogram): Percentiles {
  return {
    p50: us(h.getValueAtPercentile(50)),
    p99: us(h.getValueAtPercentile(99)),
    p999: us(h.getValueAtPercentile(99.9)),
    max: us(h.maxValue),
  };
}

/** [percentile, µs] points for a distribution chart. */
export function distributionUs(h: hdr.Histogram): [number, number][] {
  return DISTRIBUTION_PERCENTILES.map((p) => [p, us(p === 100 ? h.maxValue : h.getValueAtPercentile(p))]);
}

export function decodeHistogram(base64: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(base64);
}
