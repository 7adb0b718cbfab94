/**
 * The tasklet table in shared memory, tasklet handles, and the callback registry.
 *
 * Functions cannot cross threads, so a tasklet stores a callback id; every thread loads the same
 * modules in the same order, so every thread resolves an id to the same function. Static
 * tasklets (DECLARE_TASKLET at module top level) take the first slots in declaration order.
 */
import {
  layout,
  memory_attached,
  plain_read,
  plain_write,
  raw_cmpxchg,
  raw_load,
  raw_store,
} from '../shm/door.ts';
import {
  G_ALLOC_HINT,
  G_MAX_TASKLETS,
  G_STATIC_TASKLETS,
  T_ALLOC,
  T_CONTAINER,
  T_COUNT,
  T_DATA,
  T_FUNC,
  T_NEXT,
  T_STATE,
  T_USE_CALLBACK,
  TaskletAlloc,
} from '../shm/layout.ts';
import { kasan_tasklet_alloc } from './kasan.ts';

export type TaskletFunc = (data: number) => void;
export type TaskletCallback = (t: TaskletStruct) => void;
// biome-ignore lint/suspicious/noExplicitAny: both callback shapes live in one registry
type AnyCallback = (arg: any) => void;

const callbacks: AnyCallback[] = [];
const callbackIds = new Map<AnyCallback, number>();

/** Makes a function usable as a tasklet callback on every CPU (call it at module load). */
export function register_callback(fn: AnyCallback): number {
  let id = callbackIds.get(fn);
  if (id === undefined) {
    id = callbacks.length;
    callbacks.push(fn);
    callbackIds.set(fn, id);
  }
  return id;
}

export function callback_id(fn: AnyCallback, caller: string): number {
  const id = callbackIds.get(fn);
  if (id === undefined) {
    throw new Error(
      `${caller}: function '${fn.name || '<anonymous>'}' is not known to every CPU; list it in its module's callbacks (or pass it to DECLARE_TASKLET) so all CPUs load it`,
    );
  }
  return id;
}

/** The callback's id if it is registered (every CPU knows it), else undefined. */
// biome-ignore lint/suspicious/noExplicitAny: irq handlers are registered callbacks too
export function known_callback_id(fn: (...args: any[]) => unknown): number | undefined {
  return callbackIds.get(fn as AnyCallback);
}

/** Names of every registered callback, by id (for trace and report output). */
export function callback_names(): string[] {
  return callbacks.map((fn, id) => fn.name || `callback#${id}`);
}

export function callback_by_id(id: number): AnyCallback | undefined {
  return callbacks[id];
}

export function callback_name(id: number): string {
  return callbacks[id]?.name || `callback#${id}`;
}

/** A `struct tasklet_struct *`: a handle on one table slot. Fields are read from shared memory. */
export class TaskletStruct {
  /** Word index of the struct. */
  readonly addr: number;
  constructor(readonly id: number) {
    this.addr = layout().tasklet(id);
  }
  /** Kernel pointer value: 0 is NULL. */
  get ptr(): number {
    return this.id + 1;
  }
  get state(): number {
    return raw_load(this.addr + T_STATE);
  }
  get count(): number {
    return raw_load(this.addr + T_COUNT);
  }
  get data(): number {
    return raw_load(this.addr + T_DATA);
  }
  get next(): number {
    return raw_load(this.addr + T_NEXT);
  }
  get use_callback(): boolean {
    return raw_load(this.addr + T_USE_CALLBACK) !== 0;
  }
  get name(): string {
    return tasklet_name(this.id);
  }
  /** The module struct this tasklet is embedded in: what from_tasklet returns (0 unless set). */
  get container(): number {
    return raw_load(this.addr + T_CONTAINER);
  }
  set container(value: number) {
    raw_store(this.addr + T_CONTAINER, value);
  }
}

/**
 * from_tasklet(var, tasklet, field), container_of for tasklets: the struct the tasklet is
 * embedded in, e.g. the index of the module's per-device record in its shared words (set with
 * tasklet_alloc's `container` or `t.container = ...`).
 */
export function from_tasklet(t: TaskletStruct): number {
  return raw_load(t.addr + T_CONTAINER);
}

const handles: TaskletStruct[] = [];

export function tasklet_from_id(id: number): TaskletStruct {
  let t = handles[id];
  if (t === undefined) {
    if (!Number.isInteger(id) || id < 0 || id >= plain_read(G_MAX_TASKLETS)) {
      throw new RangeError(`no tasklet with id ${id} (table has ${plain_read(G_MAX_TASKLETS)} slots)`);
    }
    t = new TaskletStruct(id);
    handles[id] = t;
  }
  return t;
}

export function tasklet_from_ptr(ptr: number): TaskletStruct {
  return tasklet_from_id(ptr - 1);
}

interface StaticTasklet {
  name: string;
  func: number;
  useCallback: boolean;
  data: number;
  disabled: boolean;
}

const staticTasklets: StaticTasklet[] = [];
const names = new Map<number, string>();

function declare(name: string, fn: AnyCallback, useCallback: boolean, disabled: boolean): TaskletStruct {
  const id = staticTasklets.length;
  staticTasklets.push({ name, func: register_callback(fn), useCallback, data: 0, disabled });
  names.set(id, name);
  // No range check here: write_static_tasklets reports a table too small for the declarations.
  const t = new TaskletStruct(id);
  handles[id] = t;
  return t;
}

export const DECLARE_TASKLET = (name: string, callback: TaskletCallback): TaskletStruct =>
  declare(name, callback, true, false);
export const DECLARE_TASKLET_DISABLED = (name: string, callback: TaskletCallback): TaskletStruct =>
  declare(name, callback, true, true);
export const DECLARE_TASKLET_OLD = (name: string, func: TaskletFunc): TaskletStruct =>
  declare(name, func, false, false);
export const DECLARE_TASKLET_DISABLED_OLD = (name: string, func: TaskletFunc): TaskletStruct =>
  declare(name, func, false, true);

export function static_tasklet_names(): string[] {
  return staticTasklets.map((decl) => decl.name);
}

/** The static initialisers, written once into shared memory by CPU0 at bring-up, before the other CPUs start. */
export function write_static_tasklets(): void {
  const slots = plain_read(G_MAX_TASKLETS);
  if (staticTasklets.length > slots) {
    throw new Error(`modules declare ${staticTasklets.length} tasklets but the table has ${slots} slots`);
  }
  staticTasklets.forEach((decl, id) => {
    const a = layout().tasklet(id);
    plain_write(a + T_STATE, 0);
    plain_write(a + T_COUNT, decl.disabled ? 1 : 0);
    plain_write(a + T_NEXT, 0);
    plain_write(a + T_FUNC, decl.func);
    plain_write(a + T_DATA, decl.data);
    plain_write(a + T_USE_CALLBACK, decl.useCallback ? 1 : 0);
    plain_write(a + T_ALLOC, TaskletAlloc.Static);
  });
  plain_write(G_STATIC_TASKLETS, staticTasklets.length);
  plain_write(G_ALLOC_HINT, staticTasklets.length);
}

export class TaskletTableFullError extends Error {
  constructor(slots: number) {
    super(`tasklet table full: all ${slots} slots are in use (boot the machine with a larger maxTasklets)`);
    this.name = 'TaskletTableFullError';
  }
}

/** Allocates a slot for a tasklet created at run time (the kernel would kmalloc it). */
export function tasklet_alloc(name?: string, container = 0): TaskletStruct {
  const max = plain_read(G_MAX_TASKLETS);
  const first = plain_read(G_STATIC_TASKLETS);
  const slots = max - first;
  const hint = raw_load(G_ALLOC_HINT);
  for (let i = 0; i < slots; i++) {
    const id = first + ((hint - first + i) % slots);
    const a = layout().tasklet(id);
    if (raw_cmpxchg(a + T_ALLOC, TaskletAlloc.Free, TaskletAlloc.Dynamic) === TaskletAlloc.Free) {
      raw_store(a + T_FUNC, -1); // uninitialised until tasklet_init/tasklet_setup
      raw_store(a + T_CONTAINER, container);
      raw_store(G_ALLOC_HINT, id + 1 < max ? id + 1 : first);
      if (name !== undefined) names.set(id, name);
      else names.delete(id);
      kasan_tasklet_alloc(id);
      return tasklet_from_id(id);
    }
  }
  throw new TaskletTableFullError(max);
}

export function tasklet_name(id: number): string {
  const name = names.get(id);
  if (name !== undefined) return name;
  const func = memory_attached() ? raw_load(layout().tasklet(id) + T_FUNC) : -1;
  return func >= 0 ? `${callback_name(func)}#${id}` : `tasklet#${id}`;
}
