/** An HDR histogram of latencies in nanoseconds, recorded on a CPU and shipped as base64. */
import * as hdr from 'hdr-histogram-js';

export class LatencyRecorder {
  private readonly histogram = newHistogram();

  /** Records a latency given in milliseconds (the shared clock's unit). */
  record(ms: number): void {
    this.histogram.recordValue(Math.max(0, Math.round(ms * 1e6)));
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }
}

export function newHistogram(): hdr.Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3 });
}
