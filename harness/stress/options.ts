/** What a stress run is asked to do, and how its caller hears from it while it runs. */
import type { ControlledOptions } from '../../control/driver.ts';
import type { TraceFiles } from '../trace/output.ts';
import type { Mix } from './mix.ts';
import type { StatsSample } from './result.ts';

export interface StressOptions {
  cpus: number;
  tasklets: number;
  durationMs: number;
  seed: number;
  mix: Mix;
  /** Hotplug period in ms: every period one CPU goes down or comes back; 0 = off. */
  hotplugMs: number;
  inject?: string;
  oracles: boolean;
  /** Length of a free-running epoch between drains. */
  epochMs?: number;
  delayUs?: number;
  reschedPct?: number;
  burst?: number;
  /** Trace events kept per CPU (0: no tracing); the first violation's report shows the last ones. */
  traceCapacity?: number;
  /** Where to write the whole trace at the end. */
  traceFiles?: TraceFiles;
  /** Carry on after an oops (it is counted, and the run still ends as a fault). */
  oopsContinue?: boolean;
  /** Controlled mode: one CPU at a time under a seeded strategy; epochs and hotplug in virtual time. */
  controlled?: ControlledOptions;
  /** Controlled mode: end the load after this many scheduling decisions (then drain). */
  stepLimit?: number;
}

export interface StressHooks {
  /** Called about once a second. */
  onSample?: (sample: StatsSample) => void;
  /** Resolves when the run should stop early (SIGINT). */
  interrupted?: Promise<void>;
}

/** Enough per CPU for the window around a violation, small enough to cost little. */
export const WINDOW_TRACE_CAPACITY = 4096;
