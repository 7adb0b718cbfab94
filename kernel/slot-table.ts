/**
 * What timers and work items share: a table of fixed-size structs in shared memory (static ones
 * declared at module top level take the first slots, the rest are allocated at run time), their
 * handles and names, and the word spinlock their per-CPU bases and pools use.
 */
import {
  atomic_cmpxchg,
  atomic_set,
  cpu_relax,
  memory_attached,
  plain_write,
  raw_cmpxchg,
  raw_load,
  raw_store,
} from '../shm/door.ts';
import { TaskletAlloc } from '../shm/layout.ts';
import { local_irq_restore, local_irq_save } from './irqflags.ts';
import { this_cpu } from './percpu.ts';
import { callback_name, register_callback } from './tasklet-table.ts';

export interface SlotLayout {
  /** What the table holds, for messages ("timer", "work item"). */
  kind: string;
  /** The C struct name, for messages ("timer_list"). */
  struct: string;
  slots: number;
  /** Word address of slot `id`. */
  addr(id: number): number;
  /** Field offsets: the callback id, the allocation state, the container. */
  func: number;
  alloc: number;
  container: number;
  /** Resets a slot's other fields (the callback id given, -1 before initialisation). */
  init(addr: number, func: number): void;
}

/** The table of one kind of struct, with handles of type H. */
export class SlotTable<H> {
  private readonly handles: H[] = [];
  private readonly names = new Map<number, string>();
  private readonly statics: { name: string; func: number }[] = [];

  constructor(
    readonly layout: SlotLayout,
    private readonly make: (id: number) => H,
  ) {}

  from_id(id: number): H {
    let h = this.handles[id];
    if (h === undefined) {
      if (!Number.isInteger(id) || id < 0 || id >= this.layout.slots) {
        throw new RangeError(
          `no ${this.layout.kind} with id ${id} (the table has ${this.layout.slots} slots)`,
        );
      }
      h = this.make(id);
      this.handles[id] = h;
    }
    return h;
  }

  name(id: number): string {
    const name = this.names.get(id);
    if (name !== undefined) return name;
    const func = memory_attached() ? raw_load(this.layout.addr(id) + this.layout.func) : -1;
    return func >= 0 ? `${callback_name(func)}#${id}` : `${this.layout.kind.split(' ')[0]}#${id}`;
  }

  /** A static declaration (DEFINE_TIMER, DECLARE_WORK): the same slot on every CPU. */
  // biome-ignore lint/suspicious/noExplicitAny: a callback of the table's own shape
  declare(name: string, fn: (arg: any) => void): H {
    const id = this.statics.length;
    this.statics.push({ name, func: register_callback(fn) });
    this.names.set(id, name);
    return this.from_id(id);
  }

  /** CPU0 writes the static declarations at bring-up, with the static tasklets. */
  write_statics(): void {
    const { kind, slots } = this.layout;
    if (this.statics.length > slots) {
      throw new Error(`modules declare ${this.statics.length} ${kind}s but the table has ${slots} slots`);
    }
    this.statics.forEach((decl, id) => {
      const a = this.layout.addr(id);
      this.layout.init(a, decl.func);
      plain_write(a + this.layout.alloc, TaskletAlloc.Static);
    });
  }

  /** A run-time slot; `container` is what from_timer / from_work returns. */
  alloc(name: string | undefined, container: number): H {
    const { addr, slots, kind, struct } = this.layout;
    for (let id = this.statics.length; id < slots; id++) {
      const a = addr(id);
      if (raw_cmpxchg(a + this.layout.alloc, TaskletAlloc.Free, TaskletAlloc.Dynamic) === TaskletAlloc.Free) {
        this.layout.init(a, -1);
        raw_store(a + this.layout.container, container);
        if (name !== undefined) this.names.set(id, name);
        else this.names.delete(id);
        return this.from_id(id);
      }
    }
    throw new SlotTableFullError(kind, struct, slots);
  }

  free(id: number): void {
    raw_store(this.layout.addr(id) + this.layout.alloc, TaskletAlloc.Free);
  }

  /** The slots in use whose callback lies in [start, end) (a module's text), and whether each is static. */
  *in_text(text: { start: number; end: number }): Generator<{ id: number; isStatic: boolean; func: number }> {
    const { addr, slots, alloc, func } = this.layout;
    for (let id = 0; id < slots; id++) {
      const state = raw_load(addr(id) + alloc);
      const fn = raw_load(addr(id) + func);
      if (state === TaskletAlloc.Free || fn < text.start || fn >= text.end) continue;
      yield { id, isStatic: state === TaskletAlloc.Static, func: fn };
    }
  }
}

export class SlotTableFullError extends Error {
  constructor(kind: string, struct: string, slots: number) {
    super(`${kind} table full: all ${slots} ${struct} slots are in use`);
    this.name = 'SlotTableFullError';
  }
}

/** raw_spin_lock_irqsave on a lock word (0 free, else the holder CPU + 1): returns the flags. */
export function word_lock_irqsave(lock: number): number {
  const flags = local_irq_save();
  while (atomic_cmpxchg(lock, 0, this_cpu.id + 1) !== 0) {
    while (raw_load(lock) !== 0) cpu_relax();
  }
  return flags;
}

export function word_unlock_irqrestore(lock: number, flags: number): void {
  atomic_set(lock, 0);
  local_irq_restore(flags);
}

/** A second lock, nested inside one taken with word_lock_irqsave (interrupts are already off). */
export function word_lock_nested(lock: number): void {
  while (atomic_cmpxchg(lock, 0, this_cpu.id + 1) !== 0) cpu_relax();
}

export function word_unlock_nested(lock: number): void {
  atomic_set(lock, 0);
}
