/** How a measured workload warms up before its window. */
export interface Warmup {
  /** Untimed time before each measured window (JIT tiers, caches). */
  warmupMs: number;
  /**
   * After that, keep going while the rate still climbs, at most this long (0: the fixed warm-up
   * alone). TurboFan compiles the runtime's softirq loop, with all it inlines, on a background
   * thread that competes with the busy CPUs for the host's cores: on a 2-core host a 2-CPU
   * machine is seconds away from its steady rate, which a fixed 300 ms does not cover.
   */
  settleMaxMs: number;
}

/** A full bench run's warm-up; the counting tools (bench/count) use the same. */
export const FULL_WARMUP: Warmup = { warmupMs: 300, settleMaxMs: 6000 };

/** How long each measurement runs and how often it is repeated. */
export interface Window extends Warmup {
  durationMs: number;
  runs: number;
}
