/**
 * `tasklet-rt compare`: boots one machine per side, runs the driver (driver.ts) with a tasklet
 * and then with a BH work item, and collects what each side's words recorded.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlledOptions } from '../../control/driver.ts';
import { Machine } from '../../machine/index.ts';
import { DEFAULT_TRACE_CAPACITY, writeTraceFiles } from '../trace/output.ts';
import { C, LATENCY_BASE, MAX_LATENCY_SAMPLES } from './words.ts';

const driverModule = fileURLToPath(new URL('./driver.ts', import.meta.url));

export type Side = 'tasklet' | 'work';
export const SIDES: readonly Side[] = ['tasklet', 'work'];
/** The trace file of each side, under --trace DIR. */
export const TRACE_FILES: Record<Side, string> = {
  tasklet: 'tasklet.ftrace.txt',
  work: 'bh-work.ftrace.txt',
};

export interface CompareOptions {
  cpus: number;
  /** Machine time of the steady phase (the experiments come after it). */
  durationMs: number;
  seed: number;
  /** Trials of each experiment (disabled, teardown). */
  trials: number;
  controlled?: ControlledOptions;
  /** Where the ftrace text of both sides goes. */
  traceDir?: string;
}

export interface SideResult {
  schedules: number;
  /** queue_work that returned true (BH work only; tasklet_schedule returns nothing). */
  accepted: number | null;
  runs: number;
  schedWhileDisabled: number;
  refusedWhileDisabled: number | null;
  runsOnSchedCpu: number;
  runsElsewhere: number;
  reentryOnScheduler: number;
  reentryOnRunner: number;
  disabledTrials: number;
  disabledRemembered: number;
  teardownTrials: number;
  teardownRuns: number;
  teardownCancelled: number | null;
  /** Schedule-to-run latency, µs of machine time. */
  latency: { samples: number; p50: number; p99: number };
  traceFile: string | null;
}

export interface CompareResult {
  options: CompareOptions;
  tasklet: SideResult;
  work: SideResult;
}

const RUN_TIMEOUT_MS = 120_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runSide(side: Side, options: CompareOptions): Promise<SideResult> {
  const machine = await Machine.boot({
    cpus: options.cpus,
    modules: [driverModule],
    controlled: options.controlled,
    trace: options.traceDir !== undefined ? { capacity: DEFAULT_TRACE_CAPACITY } : undefined,
  });
  const words = machine.sharedWords('compare');
  const get = (w: C): number => Atomics.load(words, w);
  try {
    await machine.call(0, 'compare_setup', {
      mode: side,
      seed: options.seed,
      trials: options.trials,
      steadyMs: options.durationMs,
    });
    for (let cpu = 1; cpu < options.cpus; cpu++) await machine.startTask(cpu, 'compare_irq_source');
    await machine.startTask(0, 'compare_path');
    const deadline = performance.now() + RUN_TIMEOUT_MS;
    while (get(C.Done) === 0) {
      if (machine.faults.length > 0) throw new Error(machine.faults[0].message);
      if (performance.now() > deadline) throw new Error(`the ${side} run did not finish`);
      await machine.sleep(1);
    }
  } finally {
    await machine.shutdown();
  }
  const n = Math.min(get(C.LatencyCount), MAX_LATENCY_SAMPLES);
  const samples = Array.from(words.subarray(LATENCY_BASE, LATENCY_BASE + n)).sort((a, b) => a - b);
  const work = side === 'work';
  let traceFile: string | null = null;
  if (options.traceDir !== undefined) {
    traceFile = join(options.traceDir, TRACE_FILES[side]);
    writeTraceFiles(machine, { ftrace: traceFile });
  }
  return {
    schedules: get(C.Schedules),
    accepted: work ? get(C.Accepted) : null,
    runs: get(C.Runs),
    schedWhileDisabled: get(C.SchedWhileDisabled),
    refusedWhileDisabled: work ? get(C.RefusedWhileDisabled) : null,
    runsOnSchedCpu: get(C.RunsOnSchedCpu),
    runsElsewhere: get(C.RunsElsewhere),
    reentryOnScheduler: get(C.ReentryOnScheduler),
    reentryOnRunner: get(C.ReentryOnRunner),
    disabledTrials: get(C.DisabledTrials),
    disabledRemembered: get(C.DisabledRemembered),
    teardownTrials: get(C.TeardownTrials),
    teardownRuns: get(C.TeardownRuns),
    teardownCancelled: work ? get(C.TeardownCancelled) : null,
    latency: { samples: n, p50: percentile(samples, 50), p99: percentile(samples, 99) },
    traceFile,
  };
}

export async function runCompare(options: CompareOptions): Promise<CompareResult> {
  const tasklet = await runSide('tasklet', options);
  const work = await runSide('work', options);
  return { options, tasklet, work };
}
