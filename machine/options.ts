/** What a caller may ask of a machine, its defaults and their checks, and the controller's errors. */
import { availableParallelism } from 'node:os';
import type { ControlledOptions } from '../control/plan.ts';
import type { OopsReport } from '../kernel/oops.ts';
import { MAX_CPUS } from '../shm/layout.ts';
import type { BootMetadata, LogLevel } from '../shm/protocol.ts';

export interface MachineOptions {
  /** Emulated CPUs, 1..64. Default: this host's cores. */
  cpus?: number;
  /** Timer ticks per second. Default 250. */
  hz?: number;
  /** Tasklet table slots (static + run time). Default 4096. */
  maxTasklets?: number;
  /** Module files (paths or URLs) every CPU loads, in this order. */
  modules?: (string | URL)[];
  /** Code every CPU imports before the modules (bug injection, tracers). */
  preload?: (string | URL)[];
  preloadOptions?: Record<string, unknown>;
  /**
   * Module parameters, as on the kernel command line: `{ 'jit.tdelay': 10 }` (module_param reads
   * them at module load on every CPU).
   */
  params?: Record<string, number>;
  /** How long an idle CPU polls before it sleeps, in microseconds. Default 0 (sleep at once). */
  idlePollUs?: number;
  /** Receives every printk line. Default: warnings and worse go to stderr. */
  onPrintk?: (cpu: number, level: LogLevel, text: string) => void;
  /** Receives every oops; the default only records it in `oopses`. */
  onOops?: (report: OopsReport) => void;
  /** Receives reports that modules send (`report(key, value)`). */
  onReport?: (cpu: number, key: string, value: unknown) => void;
  /**
   * Called with what the modules declare once every CPU has loaded them, before any module
   * init runs; a throw ends the boot (the workers stop) and Machine.boot rejects with it.
   */
  beforeStart?: (metadata: BootMetadata) => void;
  /** Called once when a CPU worker dies unexpectedly. */
  onFault?: (fault: MachineFault) => void;
  /** Record every tracepoint into per-CPU rings of this many events (see traceRecords). */
  trace?: { capacity: number };
  /**
   * Soft-lockup threshold in seconds (the kernel's watchdog_thresh): a CPU that makes no
   * progress this long is reported as a fault and its worker terminated. 0 = off. Default 10.
   */
  watchdogThresh?: number;
  /** Seconds a task may wait on one tasklet before it is reported as a hung task (a fault). 0 = off. Default 120. */
  hungTaskTimeout?: number;
  /**
   * Controlled mode: one CPU runs at a time, and a seeded strategy picks which at every shared
   * access and interrupt point (see Machine.control). The machine clock becomes virtual.
   */
  controlled?: ControlledOptions;
  /**
   * Raise V8's inlining budget while this machine runs (process-wide, see machine/inlining.ts):
   * long dispatch loops (the bench) spend a third less CPU per run; short, varied work such as
   * fuzz programs recompiles more and runs slower. Default false.
   */
  deepInlining?: boolean;
  /** Per-worker V8 limits (an out-of-memory worker is reported as a fault). */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

export interface MachineFault {
  cpu: number;
  message: string;
}

export class MachineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MachineError';
  }
}

/** A module file that cannot be loaded: missing, not a module, a syntax error, no default export. */
export class BadModuleError extends MachineError {
  constructor(message: string) {
    super(message);
    this.name = 'BadModuleError';
  }
}

/** Defaults for options a caller did not set (the CLI's --watchdog-thresh reaches every machine). */
export const machineDefaults: Pick<MachineOptions, 'watchdogThresh' | 'hungTaskTimeout'> = {};

const DEFAULT_WATCHDOG_THRESH = 10;
const DEFAULT_HUNG_TASK_TIMEOUT = 120;
const DEFAULT_HZ = 250;
const DEFAULT_MAX_TASKLETS = 4096;
export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * How long a CPU may take to stop before it counts as stuck and is terminated: a worker still
 * loading its modules (seconds on an oversubscribed host) stops only once they are loaded.
 */
export const SHUTDOWN_GRACE_MS = 5_000;

export function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MachineError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** The machine's size and watchdog settings, checked, with the defaults filled in. */
export interface MachineSize {
  nrCpus: number;
  hz: number;
  maxTasklets: number;
  watchdogThresh: number;
  hungTaskTimeout: number;
}

export function machineSize(options: MachineOptions): MachineSize {
  return {
    nrCpus: checkInt('cpus', options.cpus ?? Math.min(availableParallelism(), MAX_CPUS), 1, MAX_CPUS),
    hz: checkInt('hz', options.hz ?? DEFAULT_HZ, 10, 10_000),
    maxTasklets: checkInt('maxTasklets', options.maxTasklets ?? DEFAULT_MAX_TASKLETS, 1, 1 << 20),
    watchdogThresh: checkInt(
      'watchdogThresh',
      options.watchdogThresh ?? machineDefaults.watchdogThresh ?? DEFAULT_WATCHDOG_THRESH,
      0,
      3600,
    ),
    hungTaskTimeout: checkInt(
      'hungTaskTimeout',
      options.hungTaskTimeout ?? machineDefaults.hungTaskTimeout ?? DEFAULT_HUNG_TASK_TIMEOUT,
      0,
      86_400,
    ),
  };
}
