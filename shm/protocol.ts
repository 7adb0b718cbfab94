/** Messages between the controller and CPU workers (boot, logs and commands; never the hot path). */
import type { MessagePort } from 'node:worker_threads';
import type { LayoutParams } from './layout.ts';

/** The kernel's printk levels. */
export type LogLevel = 'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug';

/** The size of the controlled scheduler's block (control/block.ts). */
export interface ControlParams {
  nrCpus: number;
  /** Decision log capacity (entries); the replay log has the same. */
  logCapacity: number;
  /** How often a CPU waiting for the baton checks it before it sleeps (ControlledOptions.batonSpins). */
  batonSpins: number;
}

/** What the loaded modules declare, as the controller needs to know it. */
export interface ModuleMetadata {
  modules: string[];
  procs: string[];
  /** The modules' process-context tasks (`tasks:`), by name. */
  tasks: string[];
  irqs: Record<number, string>;
  /** Per module, what stress and fuzz of a module drive and check (in load order). */
  drivers: DriverMetadata[];
}

/** A module's stimulus as it declared it (values unchecked: the controller validates them). */
export interface StimulusDeclaration {
  irqs: Record<string, { rate: unknown }>;
  tasks: Record<string, unknown>;
  lifecycle: boolean;
}

export interface DriverMetadata {
  module: string;
  /** The lines it requests (`irqs`) and its tasks (`tasks`). */
  irqs: number[];
  tasks: string[];
  probe: boolean;
  remove: boolean;
  stimulus: StimulusDeclaration | null;
  /** Names of its `invariants`. */
  invariants: string[];
}

export interface CpuWorkerData {
  sab: SharedArrayBuffer;
  layout: LayoutParams;
  cpu: number;
  /** Module URLs, imported in this order on every CPU (module code never runs on the controller). */
  modules: string[];
  /** Imported before the modules (bug injection, tracers); they patch runtime hooks. */
  preload: string[];
  /** Options for preloaded code (e.g. which mutant). */
  preloadOptions: Record<string, unknown>;
  /** Module parameters ("module.name" → value), read by module_param. */
  params: Record<string, number>;
  /** Trace rings, when tracing is on. */
  trace: { sab: SharedArrayBuffer; capacity: number } | null;
  /** Microseconds an idle CPU polls for work before sleeping in Atomics.wait. */
  idlePollUs: number;
  /** The controlled scheduler's block, in controlled mode. */
  control: { sab: SharedArrayBuffer; params: ControlParams } | null;
  commandPort: MessagePort;
}

/** Controller → CPU, delivered through the function-call IPI. */
export type CpuCommand =
  | { op: 'read-proc'; id: number; name: string }
  | { op: 'start-task'; id: number; name: string; comm: string; arg: unknown; waitForExit: boolean }
  | { op: 'call'; id: number; name: string; arg: unknown };

/** A command before the controller numbers it. */
export type CpuCommandBody = CpuCommand extends infer C
  ? C extends CpuCommand
    ? Omit<C, 'id'>
    : never
  : never;

/** What CPU0 tells the controller about the loaded code at boot. */
export interface BootMetadata extends ModuleMetadata {
  staticTasklets: string[];
  /** Callback names by id. */
  callbacks: string[];
}

/** CPU → controller. */
export type CpuMessage =
  | { type: 'ready'; cpu: number; sharedWords: Record<string, [number, number]>; metadata: BootMetadata }
  | { type: 'printk'; cpu: number; level: LogLevel; text: string }
  | { type: 'oops'; cpu: number; context: string; culprit: string; message: string; stack: string }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'report'; cpu: number; key: string; value: unknown }
  | { type: 'stopped'; cpu: number };
