/**
 * The bench's own shared memory, apart from the machine's: the controller creates one per
 * machine and hands it to every CPU (`bench.attach`), so the bench reads its counters and
 * stamps without knowing where the runtime keeps anything. Per-CPU counters are written only
 * by their CPU (plain increments), and read by the controller with Atomics.
 */
import { MAX_CPUS } from 'tasklet-rt';

/** Float64 stamps (absoluteMs): the latency probe's send and entry, then one ping stamp per CPU. */
export const STAMP_SENT = 0;
export const STAMP_ENTRY = 1;
const STAMP_PING = 2;
const STAMPS = STAMP_PING + MAX_CPUS;

/**
 * Int32 words, from a 128-byte boundary: the latency-entry sequence, then a block of counters
 * per CPU. A CPU bumps its runs counter on every run: blocks of their own 128 bytes (a cache
 * line and the adjacent line the prefetcher pairs with it) keep two CPUs' counters from
 * sharing a line, which the bare loop's per-CPU blocks do not either.
 */
export const WORD_ENTRY_SEQ = 0;
const LINE_BYTES = 128;
const CPU_WORDS = LINE_BYTES / 4;
const CPU_BASE = CPU_WORDS;
const WORDS_OFFSET = Math.ceil((STAMPS * 8) / LINE_BYTES) * LINE_BYTES;
export const COUNT_RUNS = 0; // runs of the measured tasklets
export const COUNT_HOPS = 1; // cross-CPU tasklet entries
const WORDS = CPU_BASE + MAX_CPUS * CPU_WORDS;

export class BenchChannel {
  readonly stamps: Float64Array;
  readonly words: Int32Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(WORDS_OFFSET + WORDS * 4)) {
    this.stamps = new Float64Array(sab, 0, STAMPS);
    this.words = new Int32Array(sab, WORDS_OFFSET, WORDS);
  }

  /** Index in `words` of one of a CPU's counters (COUNT_*). */
  static counter(cpu: number, which: number): number {
    return CPU_BASE + cpu * CPU_WORDS + which;
  }

  /** Index in `stamps` of the time CPU `cpu` was last pinged. */
  static pingStamp(cpu: number): number {
    return STAMP_PING + cpu;
  }

  read(cpu: number, which: number): number {
    return Atomics.load(this.words, BenchChannel.counter(cpu, which));
  }
}

let attached: BenchChannel | null = null;

/** Set on each CPU by `bench.attach`, before any workload starts. */
export function attachChannel(sab: SharedArrayBuffer): void {
  attached = new BenchChannel(sab);
}

/** This CPU's view of the channel. */
export function channel(): BenchChannel {
  if (attached === null) throw new Error('bench channel not attached (call bench.attach first)');
  return attached;
}
