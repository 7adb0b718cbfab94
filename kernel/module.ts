/**
 * Kernel-style modules. A module is a TypeScript file whose default export is `defineModule({...})`.
 * Every CPU imports the same modules in the same order (the controller never runs module code),
 * so tasklets they declare and callbacks they list get the same ids on every CPU.
 */

import type { ModuleMetadata } from '../shm/protocol.ts';
import type { IrqHandler } from './irq.ts';
import type { TaskBody, TaskFn } from './sched.ts';
import { register_callback } from './tasklet-table.ts';

/** The seq_file a proc reader writes into. */
export class SeqFile {
  private readonly chunks: string[] = [];
  puts(text: string): void {
    this.chunks.push(text);
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** A proc file's read: runs as a task (comm "cat") on the CPU that reads it; may sleep. */
export type ProcRead = (m: SeqFile) => TaskBody;

export interface IrqDeclaration {
  name: string;
  handler: IrqHandler;
}

export interface ModuleDefinition {
  name: string;
  /** Functions that tasklet_init / tasklet_setup may be given at run time. */
  // biome-ignore lint/suspicious/noExplicitAny: any tasklet callback shape
  callbacks?: ((arg: any) => void)[];
  /** Interrupt handlers, requested on every CPU at boot: line number → handler. */
  irqs?: Record<number, IrqDeclaration>;
  /** Files under /proc, by name without the "/proc/" prefix. */
  procs?: Record<string, ProcRead>;
  /** Tasks the controller can start on a CPU by name (Machine.startTask / runTask). */
  tasks?: Record<string, TaskFn>;
  /** Functions the controller can run on a CPU in hard-irq context (Machine.call). */
  calls?: Record<string, (arg: unknown) => unknown>;
  /** module_init: once, on CPU 0, in process context, after every CPU is up. */
  init?: () => void;
  /** module_exit: once, on CPU 0, when the machine shuts down. */
  exit?: () => void;
  /** Per-CPU bring-up (like a CPU-hotplug "online" callback), on every CPU at boot. */
  cpu_init?: (cpu: number) => void;
}

const modules: ModuleDefinition[] = [];
let params: Record<string, number> = {};

/** The machine's module parameters (set on each CPU before the modules load). */
export function set_module_params(values: Record<string, number>): void {
  params = { ...values };
}

/**
 * module_param(name, int, 0): the value given for `module.name` (Machine option `params`, CLI
 * `--param module.name=value`), else `value`. Call it at module top level.
 */
export function module_param(module: string, name: string, value: number): number {
  const given = params[`${module}.${name}`];
  return given === undefined ? value : given;
}

export function defineModule(definition: ModuleDefinition): ModuleDefinition {
  for (const fn of definition.callbacks ?? []) register_callback(fn);
  modules.push(definition);
  return definition;
}

export function loaded_modules(): readonly ModuleDefinition[] {
  return modules;
}

/** What the controller needs to know about the loaded modules (sent by CPU0 at boot). */

export function module_metadata(): ModuleMetadata {
  const irqs: Record<number, string> = {};
  for (const m of modules)
    for (const [irq, decl] of Object.entries(m.irqs ?? {})) irqs[Number(irq)] = decl.name;
  return {
    modules: modules.map((m) => m.name),
    procs: modules.flatMap((m) => Object.keys(m.procs ?? {})),
    tasks: modules.flatMap((m) => Object.keys(m.tasks ?? {})),
    irqs,
  };
}

export function find_proc(name: string): ProcRead | undefined {
  for (const m of modules) {
    const read = m.procs?.[name];
    if (read !== undefined) return read;
  }
  return undefined;
}

export function find_task(name: string): TaskFn | undefined {
  for (const m of modules) {
    const fn = m.tasks?.[name];
    if (fn !== undefined) return fn;
  }
  return undefined;
}

export function find_call(name: string): ((arg: unknown) => unknown) | undefined {
  for (const m of modules) {
    const fn = m.calls?.[name];
    if (fn !== undefined) return fn;
  }
  return undefined;
}
