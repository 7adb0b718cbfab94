/** The shape of a bench run's results: what --json writes and every report reads. */
import type { Stat } from './stats.ts';

export const WORKLOADS = [
  'local',
  'shared',
  'hi',
  'cross-cpu',
  'latency',
  'scaling',
  'baselines',
  'fuzz',
  'boot',
] as const;
export type Workload = (typeof WORKLOADS)[number];

export type Implementation = 'tasklet-rt' | 'bare' | 'piscina';

/** One throughput figure: a workload on one implementation at one CPU count. */
export interface ThroughputRow {
  workload: string;
  implementation: Implementation;
  cpus: number;
  /** What was run: tasklets per CPU, shared tasklets, piscina settings... */
  params: Record<string, string | number | boolean>;
  /** Dispatches (callback runs, tasks) per second, all CPUs together. */
  perSecond: Stat;
  /** The same divided by CPUs. */
  perSecondPerCpu: Stat;
  /** Entries requeued by tasklet_action because RUN was held elsewhere (shared workloads). */
  requeuesPerSecond?: Stat;
}

/** One latency distribution, in microseconds. */
export interface LatencyRow {
  workload: string;
  /** busy, idle (spin then sleep) or idle (sleep at once). */
  target: string;
  cpus: number;
  idlePollUs: number;
  samples: number;
  lost: number;
  p50: Stat;
  p99: Stat;
  p999: Stat;
  max: Stat;
  /** Of all runs merged, for the distribution chart: [percentile, µs]. */
  distribution: [number, number][];
  /** Dispatches per second, where the workload is also a throughput (the ping-pong). */
  perSecond?: Stat;
}

export interface MachineRow {
  cpus: number;
  idlePollUs: number;
  bootMs: number;
  /** Process RSS growth from before boot to after, divided by CPUs. */
  rssPerCpuBytes: number;
  /** V8 heap in use inside each CPU worker (mean over workers). */
  heapUsedPerCpuBytes: number;
  heapTotalPerCpuBytes: number;
}

/** Bug-finding throughput: a fuzz campaign's programs per second, boot and warm-up excluded. */
export interface FuzzRow {
  mode: 'free-running' | 'controlled';
  cpus: number;
  programsPerSecond: number;
  /** Seconds the rate was measured over. */
  seconds: number;
}

/** A boot from the compiled package (dist/), in a fresh process: median of a few. */
export interface BootRow {
  from: 'build';
  cpus: number;
  ms: number;
  msPerCpu: number;
}

export interface TargetCheck {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

export interface BenchResults {
  startedAt: string;
  host: {
    node: string;
    platform: string;
    cpuModel: string;
    cores: number;
    /** The host's 1-minute load average when the run started and ended (others' work shows here). */
    loadAverage?: { atStart: number; atEnd: number };
  };
  settings: {
    cpus: number;
    durationMs: number;
    runs: number;
    warmupMs: number;
    /** The settling warm-up's bound (bench/window.ts); absent in results from before it. */
    settleMaxMs?: number;
    idlePollUs: number;
    localTasklets: number;
    sharedTasklets: number;
    quick: boolean;
    only: Workload[];
    /** The load run beside the bench (`--load`): 'none', or what ran. */
    load?: string;
  };
  throughput: ThroughputRow[];
  latency: LatencyRow[];
  machines: MachineRow[];
  /** `fuzz` workload: free-running and controlled campaigns (absent when not run). */
  fuzz?: FuzzRow[];
  /** `boot` workload: boots from the build; absent when not run, empty without a build. */
  boot?: BootRow[];
  /** The targets, checked; empty for a --quick run, which is not graded. */
  targets: TargetCheck[];
}
