/** How long each measurement runs and how often it is repeated. */
export interface Window {
  /** Untimed time before each measured window (JIT tiers, caches). */
  warmupMs: number;
  durationMs: number;
  runs: number;
}
