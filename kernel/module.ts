/**
 * Kernel-style modules. A module is a TypeScript file whose default export is `defineModule({...})`.
 * Every CPU imports the same modules in the same order (the controller never runs module code),
 * so tasklets they declare and callbacks they list get the same ids on every CPU.
 */

import { plain_read, raw_or } from '../shm/door.ts';
import { G_MODULES_GONE } from '../shm/layout.ts';
import type { DriverMetadata, ModuleMetadata } from '../shm/protocol.ts';
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
  /** Device bring-up and teardown (a platform driver's probe/remove), run in process context on a CPU. stress/fuzz repeat remove → probe while the stimulus runs when stimulus.lifecycle is true. */
  probe?: () => void;
  remove?: () => void;
  /** What stress and fuzz drive. */
  stimulus?: {
    /** Interrupt sources: line (must be one the module requests in `irqs`) → mean interrupts per second over the whole machine. */
    irqs?: Record<number, { rate: number }>;
    /** Process-context tasks (names in `tasks`) → relative weight of how often the harness starts one. */
    tasks?: Record<string, number>;
    /** Repeat remove → probe during the run, racing the interrupts and tasks. */
    lifecycle?: boolean;
  };
  /** The module's own invariants, run at drain time on CPU0 in process context with the machine quiet; they report with WARN_ON/BUG_ON (or throw). */
  invariants?: Record<string, () => void>;
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
  // The module is gone once its exit returns: its text and static data are freed. (An exit that
  // throws is an oops, or the machine halting under it: nothing is judged after it.)
  const exit = definition.exit;
  definition.exit = function module_exit(): void {
    exit?.call(definition);
    module_unloaded(definition);
  };
  return definition;
}

/**
 * A module's text: the callback ids its file registered as it loaded (DECLARE_TASKLET, its
 * `callbacks`), [start, end). The loader (cpu/module-load.ts) records it; every CPU loads the
 * same files in the same order, so every CPU has the same ranges.
 */
const texts = new Map<ModuleDefinition, { start: number; end: number }>();

export function set_module_text(m: ModuleDefinition, start: number, end: number): void {
  texts.set(m, { start, end });
}

/** Bit of module `m` in G_MODULES_GONE (0: past the first 31, not followed). */
function gone_bit(m: ModuleDefinition): number {
  const index = modules.indexOf(m);
  return index >= 0 && index < 31 ? 1 << index : 0;
}

type UnloadHook = (m: ModuleDefinition, text: { start: number; end: number }) => void;

/** What a module's unload does besides marking it gone: the lifetime checks of its tasklets, timers and works. */
const unloadHooks: UnloadHook[] = [];

export function on_module_unload(hook: UnloadHook): void {
  unloadHooks.push(hook);
}

/** Followed with kasan.module_exit=1 only (kernel/kasan.ts says why). */
function module_unloaded(m: ModuleDefinition): void {
  const bit = gone_bit(m);
  if (bit === 0 || module_param('kasan', 'module_exit', 0) === 0) return;
  raw_or(G_MODULES_GONE, bit);
  const text = texts.get(m);
  if (text !== undefined) for (const hook of unloadHooks) hook(m, text);
}

/** The unloaded module whose text callback `id` is, or null (also while no module is gone). */
export function unloaded_module_of(id: number): ModuleDefinition | null {
  const gone = plain_read(G_MODULES_GONE);
  if (gone === 0) return null;
  for (const [m, text] of texts)
    if (id >= text.start && id < text.end && (gone & gone_bit(m)) !== 0) return m;
  return null;
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
    drivers: modules.map(driver_metadata),
  };
}

/** What a harness needs of one module to drive it: its stimulus as declared, probe/remove, invariants. */
function driver_metadata(m: ModuleDefinition): DriverMetadata {
  const stimulus = m.stimulus;
  return {
    module: m.name,
    irqs: Object.keys(m.irqs ?? {}).map(Number),
    tasks: Object.keys(m.tasks ?? {}),
    probe: typeof m.probe === 'function',
    remove: typeof m.remove === 'function',
    // Copied as declared (the controller validates it): a value that is not a number stays visible.
    stimulus:
      stimulus === undefined
        ? null
        : {
            irqs: Object.fromEntries(
              Object.entries(stimulus.irqs ?? {}).map(([line, source]) => [
                line,
                { rate: cloneable(source?.rate) },
              ]),
            ),
            tasks: Object.fromEntries(
              Object.entries(stimulus.tasks ?? {}).map(([name, weight]) => [name, cloneable(weight)]),
            ),
            lifecycle: stimulus.lifecycle === true,
          },
    invariants: Object.keys(m.invariants ?? {}),
  };
}

/** A declared value as the controller can receive it (a function or object cannot cross threads). */
const cloneable = (value: unknown): unknown =>
  value === null || ['number', 'string', 'boolean', 'undefined'].includes(typeof value)
    ? value
    : `<${typeof value}>`;

/** The module that defines `name` (probe/remove/invariants are looked up through it). */
export function find_module(name: string): ModuleDefinition | undefined {
  return modules.find((m) => m.name === name);
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
