/**
 * Module shared data: a driver's structs in shared memory, the state its irq handler, tasklets
 * and tasks share across CPUs (module variables are per CPU: each CPU loads the module).
 *
 *   const stats = DEFINE_SHARED('rx_stats', { seen: 0, done: 0 }); // static, initialised
 *   const rx_dev = DEFINE_STRUCT('rx_dev', ['packets', 'irqs']);    // a type for kzalloc
 *   const dev = kzalloc(rx_dev);                                    // ... and kfree(dev)
 *
 * `stats.seen` and `stats.seen = v` are plain C accesses: KCSAN (kernel/kcsan.ts) watches them.
 * `READ_ONCE(stats, 'seen')`, `WRITE_ONCE`, and the atomic_t family (`atomic_inc(stats, 'seen')`)
 * are marked ones. Every access goes through the door (an interrupt point, a controlled-mode
 * decision) and checks the object's shadow state: touching a kfree'd object is a KASAN
 * use-after-free (kernel/kasan.ts). A pointer (`dev.addr`, a number) can be kept in a shared
 * field, a tasklet's container or an irq's dev_id; `rx_dev.at(ptr)` makes it a handle again.
 */
import {
  data_read,
  data_write,
  atomic_add_return as door_atomic_add_return,
  atomic_cmpxchg as door_atomic_cmpxchg,
  atomic_read as door_atomic_read,
  atomic_set as door_atomic_set,
  atomic_xchg as door_atomic_xchg,
  READ_ONCE as door_read_once,
  WRITE_ONCE as door_write_once,
  layout,
  plain_read,
  plain_write,
  raw_add,
  raw_cmpxchg,
  raw_load,
  raw_store,
} from '../shm/door.ts';
import {
  G_HEAP_HINT,
  HEAP_SLOTS,
  OBJ_ALLOCATED,
  OBJ_FREED,
  OBJ_HEADER,
  OBJ_MAX_FIELDS,
  OBJ_SIZE,
  OBJ_STATE,
  OBJ_TYPE,
  ObjectState,
} from '../shm/layout.ts';
import { kasan_bad_free, kasan_object_use_after_free } from './kasan.ts';
import { kcsan_check } from './kcsan.ts';
import { call_trace, clear_record, history_traces, write_record } from './sanitizer-record.ts';
import { claim_module_words, name_module_words } from './shared.ts';

/** A handle on one shared object: its fields as plain accessors. */
export type Shared<K extends string> = Record<K, number> & SharedObject<K>;

export class SharedObject<K extends string> {
  constructor(
    /** The object's first field: the pointer a driver stores. */
    readonly addr: number,
    readonly type: StructType<K>,
  ) {}
}

const types: StructType<string>[] = [];

/** struct foo { u32 a, b; }: field names, in order, one word each. */
export class StructType<K extends string> {
  readonly id: number;
  readonly offsets: Record<string, number> = Object.create(null);
  private readonly Handle: new (
    addr: number,
  ) => Shared<K>;
  private readonly handles = new Map<number, Shared<K>>();

  constructor(
    readonly name: string,
    readonly fields: readonly K[],
  ) {
    if (fields.length === 0 || fields.length > OBJ_MAX_FIELDS)
      throw new RangeError(`struct ${name}: 1 to ${OBJ_MAX_FIELDS} fields, not ${fields.length}`);
    const type = this;
    class Handle extends SharedObject<K> {
      constructor(addr: number) {
        super(addr, type);
      }
    }
    fields.forEach((field, i) => {
      if (field in SharedObject.prototype || field === 'addr' || field === 'type' || field in this.offsets)
        throw new TypeError(`struct ${name}: bad or repeated field name '${field}'`);
      this.offsets[field] = i;
      Object.defineProperty(Handle.prototype, field, {
        get(this: SharedObject<K>): number {
          return plain_get(this, i);
        },
        set(this: SharedObject<K>, value: number) {
          plain_set(this, i, value);
        },
      });
    });
    this.Handle = Handle as unknown as new (addr: number) => Shared<K>;
    this.id = types.length;
    types.push(this as unknown as StructType<string>);
    history_traces.on = true;
  }

  /** The object at pointer `ptr` (container_of, a cast of a stored pointer). */
  at(ptr: number): Shared<K> {
    let handle = this.handles.get(ptr);
    if (handle === undefined) {
      handle = new this.Handle(ptr);
      this.handles.set(ptr, handle);
    }
    return handle;
  }
}

export function DEFINE_STRUCT<K extends string>(name: string, fields: readonly K[]): StructType<K> {
  return new StructType(name, fields);
}

const statics: { addr: number; init: number[] }[] = [];

/**
 * A module's static shared data, with its initial values (a global `struct foo x = {...}`):
 * call it at module top level. It lives as long as the machine.
 */
export function DEFINE_SHARED<K extends string>(name: string, init: Record<K, number>): Shared<K> {
  const fields = Object.keys(init) as K[];
  const type = new StructType(name, fields);
  const offset = claim_module_words(OBJ_HEADER + fields.length, 'DEFINE_SHARED');
  name_module_words(name, offset + OBJ_HEADER, fields.length);
  const addr = layout().moduleBase + offset + OBJ_HEADER;
  statics.push({ addr, init: fields.map((f) => init[f] | 0) });
  return type.at(addr);
}

/** CPU0 at bring-up: the static objects get their header and initial values. */
export function write_static_shared(): void {
  for (const { addr, init } of statics) {
    const header = addr - OBJ_HEADER;
    plain_write(header + OBJ_STATE, ObjectState.Static);
    plain_write(header + OBJ_SIZE, init.length);
    init.forEach((value, i) => {
      plain_write(addr + i, value);
    });
  }
}

/** kzalloc(sizeof(struct), GFP_ATOMIC): a zeroed object from the shared heap, or null if full. */
export function kzalloc<K extends string>(type: StructType<K>): Shared<K> | null {
  for (let tries = 0; tries < HEAP_SLOTS; tries++) {
    const header = layout().heapSlot((raw_add(G_HEAP_HINT, 1) >>> 0) % HEAP_SLOTS);
    const state = raw_load(header + OBJ_STATE);
    if (state === ObjectState.Live || raw_cmpxchg(header + OBJ_STATE, state, ObjectState.Live) !== state)
      continue;
    plain_write(header + OBJ_SIZE, type.fields.length);
    plain_write(header + OBJ_TYPE, type.id);
    write_record(header + OBJ_ALLOCATED, call_trace());
    clear_record(header + OBJ_FREED);
    for (let i = 0; i < type.fields.length; i++) raw_store(header + OBJ_HEADER + i, 0);
    return type.at(header + OBJ_HEADER);
  }
  return null;
}

/** kfree(obj); kfree(null) does nothing. Freeing twice, or a static object, is a KASAN report. */
export function kfree<K extends string>(obj: SharedObject<K> | null): void {
  if (obj === null) return;
  const header = obj.addr - OBJ_HEADER;
  const state = raw_load(header + OBJ_STATE);
  if (state !== ObjectState.Live) {
    kasan_bad_free(header, state === ObjectState.Freed ? 'double-free' : 'invalid-free', obj.type.name);
    return;
  }
  write_record(header + OBJ_FREED, call_trace());
  if (raw_cmpxchg(header + OBJ_STATE, ObjectState.Live, ObjectState.Freed) !== ObjectState.Live)
    kasan_bad_free(header, 'double-free', obj.type.name);
}

/** The word of `field`, after KASAN's shadow check. */
function checked(obj: SharedObject<string>, index: number, write: boolean): number {
  const addr = obj.addr + index;
  const header = obj.addr - OBJ_HEADER;
  if (plain_read(header + OBJ_STATE) === ObjectState.Freed)
    kasan_object_use_after_free(header, addr, write, obj.type.name);
  return addr;
}

/** The word of `field`, checked as a read or a write access (for marked accesses built elsewhere: bitops). */
export function field_word<K extends string>(obj: SharedObject<K>, field: K, write: boolean): number {
  const index = obj.type.offsets[field];
  if (index === undefined) throw new TypeError(`struct ${obj.type.name} has no field '${field}'`);
  return checked(obj, index, write);
}

function plain_get(obj: SharedObject<string>, index: number): number {
  const addr = checked(obj, index, false);
  kcsan_check(addr, false);
  return data_read(addr);
}

function plain_set(obj: SharedObject<string>, index: number, value: number): void {
  const addr = checked(obj, index, true);
  kcsan_check(addr, true);
  data_write(addr, value | 0);
}

// The marked accesses, as the kernel's READ_ONCE(p->f) and atomic_inc(&p->f).

export const READ_ONCE = <K extends string>(obj: SharedObject<K>, field: K): number =>
  door_read_once(field_word(obj, field, false));
export const WRITE_ONCE = <K extends string>(obj: SharedObject<K>, field: K, value: number): void =>
  door_write_once(field_word(obj, field, true), value | 0);
export const atomic_read = <K extends string>(obj: SharedObject<K>, field: K): number =>
  door_atomic_read(field_word(obj, field, false));
export const atomic_set = <K extends string>(obj: SharedObject<K>, field: K, value: number): void =>
  door_atomic_set(field_word(obj, field, true), value | 0);
export const atomic_add_return = <K extends string>(obj: SharedObject<K>, field: K, i: number): number =>
  door_atomic_add_return(field_word(obj, field, true), i | 0);
export const atomic_sub_return = <K extends string>(obj: SharedObject<K>, field: K, i: number): number =>
  atomic_add_return(obj, field, -i);
export const atomic_inc_return = <K extends string>(obj: SharedObject<K>, field: K): number =>
  atomic_add_return(obj, field, 1);
export const atomic_dec_return = <K extends string>(obj: SharedObject<K>, field: K): number =>
  atomic_add_return(obj, field, -1);
export const atomic_add = <K extends string>(obj: SharedObject<K>, field: K, i: number): void => {
  atomic_add_return(obj, field, i);
};
export const atomic_sub = <K extends string>(obj: SharedObject<K>, field: K, i: number): void => {
  atomic_add_return(obj, field, -i);
};
export const atomic_inc = <K extends string>(obj: SharedObject<K>, field: K): void => {
  atomic_add_return(obj, field, 1);
};
export const atomic_dec = <K extends string>(obj: SharedObject<K>, field: K): void => {
  atomic_add_return(obj, field, -1);
};
export const atomic_dec_and_test = <K extends string>(obj: SharedObject<K>, field: K): boolean =>
  atomic_add_return(obj, field, -1) === 0;
export const atomic_inc_and_test = <K extends string>(obj: SharedObject<K>, field: K): boolean =>
  atomic_add_return(obj, field, 1) === 0;
/** Returns the old value; the new one is stored only if the old one was `old`. */
export const atomic_cmpxchg = <K extends string>(
  obj: SharedObject<K>,
  field: K,
  old: number,
  value: number,
): number => door_atomic_cmpxchg(field_word(obj, field, true), old | 0, value | 0);
/** Returns the old value. */
export const atomic_xchg = <K extends string>(obj: SharedObject<K>, field: K, value: number): number =>
  door_atomic_xchg(field_word(obj, field, true), value | 0);
