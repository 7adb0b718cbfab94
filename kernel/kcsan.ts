/**
 * A KCSAN-style data-race detector for module data (kernel/shared-data.ts), with the kernel's
 * watchpoint method. Every plain access looks for a watchpoint on its word; one in a while (a
 * per-CPU countdown drawn from a per-CPU PRNG seeded by the CPU number, so controlled runs stay
 * exact) a plain access sets one up itself, waits a little with interrupt points (other CPUs and
 * this CPU's interrupts run into it), and removes it. An access that finds the watchpoint races
 * with the watcher when one of the two writes, they come from different CPUs or contexts (task,
 * softirq, hardirq), and they hold no lock in common (lockdep's held locks). It marks the
 * watchpoint consumed and leaves its side (task, call trace) in the slot; the watcher prints
 * "BUG: KCSAN: data-race in f1 / f2" with both. Marked accesses (READ_ONCE, WRITE_ONCE, atomic_t)
 * neither watch nor check: a race needs two plain accesses.
 *
 * Module parameters, as the kernel's: kcsan.skip_watch (mean plain accesses between two
 * watchpoints of a CPU; 0 turns the detector off), kcsan.udelay_task, kcsan.udelay_interrupt
 * (the window, µs, free-running), kcsan.watch_points (the window in controlled mode: yields).
 */
import {
  cpu_relax,
  layout,
  plain_read,
  plain_write,
  raw_add,
  raw_cmpxchg,
  raw_load,
  raw_store,
  watch_delay,
} from '../shm/door.ts';
import {
  G_WARNINGS,
  KCSAN_SLOTS,
  KW_CONTEXT,
  KW_CPU,
  KW_ENC,
  KW_LOCKS,
  KW_OTHER,
  KW_OTHER_WRITE,
  KW_WRITE,
} from '../shm/layout.ts';
import { held_lock_mask } from './lockdep.ts';
import { module_param } from './module.ts';
import { this_cpu } from './percpu.ts';
import { printk } from './printk.ts';
import {
  accessor_name,
  Context,
  call_trace,
  context_now,
  first_report,
  function_of,
  kernel_address,
  read_record,
  write_record,
} from './sanitizer-record.ts';
import { current } from './sched.ts';

/** A slot's state, in the low two bits of KW_ENC (the address + 1 above them). */
enum Slot {
  SettingUp = 0,
  Watching = 1,
  Consumed = 2,
  Ready = 3,
}

interface Config {
  skipWatch: number;
  udelayTask: number;
  udelayInterrupt: number;
  points: number;
}

let config: Config | null = null;
let countdown = 0;
let rng = 0;

function configure(): Config {
  config = {
    skipWatch: Math.max(0, module_param('kcsan', 'skip_watch', 16)),
    udelayTask: module_param('kcsan', 'udelay_task', 80),
    udelayInterrupt: module_param('kcsan', 'udelay_interrupt', 20),
    points: Math.max(1, module_param('kcsan', 'watch_points', 8)),
  };
  rng = Math.imul(this_cpu.id + 1, 0x9e3779b9) | 1;
  return config;
}

/** Plain accesses until this CPU's next watchpoint: uniform in 1 .. 2 * skip_watch (xorshift32). */
function next_countdown(c: Config): number {
  rng ^= rng << 13;
  rng ^= rng >>> 17;
  rng ^= rng << 5;
  return 1 + ((rng >>> 0) % (2 * c.skipWatch));
}

/** Before a plain access to word `addr` of module data. */
export function kcsan_check(addr: number, write: boolean): void {
  const slot = layout().kcsanSlot(addr & (KCSAN_SLOTS - 1));
  const enc = raw_load(slot + KW_ENC);
  if (enc !== 0 && enc >>> 2 === addr + 1) {
    if ((enc & 3) === Slot.Watching) found_watchpoint(slot, enc, write);
    return;
  }
  if (--countdown > 0) return;
  const c = config ?? configure();
  if (c.skipWatch === 0) {
    countdown = Number.POSITIVE_INFINITY;
    return;
  }
  countdown = next_countdown(c);
  if (enc === 0) watch(c, slot, addr, write);
}

/** The watched access and this one conflict: take the watchpoint and leave our side in it. */
function found_watchpoint(slot: number, enc: number, write: boolean): void {
  if (!write && plain_read(slot + KW_WRITE) === 0) return;
  if (plain_read(slot + KW_CPU) === this_cpu.id && plain_read(slot + KW_CONTEXT) === context_now()) return;
  const [lo, hi] = held_lock_mask();
  if ((lo & plain_read(slot + KW_LOCKS)) !== 0 || (hi & plain_read(slot + KW_LOCKS + 1)) !== 0) return;
  const base = enc & ~3;
  if (raw_cmpxchg(slot + KW_ENC, enc, base | Slot.Consumed) !== enc) return;
  plain_write(slot + KW_OTHER_WRITE, write ? 1 : 0);
  write_record(slot + KW_OTHER, call_trace());
  raw_store(slot + KW_ENC, base | Slot.Ready);
}

/** Sets up a watchpoint on `addr`, waits, removes it; reports if an access consumed it. */
function watch(c: Config, slot: number, addr: number, write: boolean): void {
  const base = (addr + 1) << 2;
  if (raw_cmpxchg(slot + KW_ENC, 0, base | Slot.SettingUp) !== 0) return;
  const context = context_now();
  const [lo, hi] = held_lock_mask();
  plain_write(slot + KW_WRITE, write ? 1 : 0);
  plain_write(slot + KW_CPU, this_cpu.id);
  plain_write(slot + KW_CONTEXT, context);
  plain_write(slot + KW_LOCKS, lo);
  plain_write(slot + KW_LOCKS + 1, hi);
  raw_store(slot + KW_ENC, base | Slot.Watching);
  const before = plain_read(addr);
  watch_delay(context === Context.Task ? c.udelayTask : c.udelayInterrupt, c.points);
  const after = plain_read(addr);
  if (raw_cmpxchg(slot + KW_ENC, base | Slot.Watching, 0) === (base | Slot.Watching)) return;
  while (raw_load(slot + KW_ENC) !== (base | Slot.Ready)) cpu_relax();
  report(slot, addr, write, before, after);
  raw_store(slot + KW_ENC, 0);
}

function side(kind: boolean, addr: number, cpu: number, context: Context, pid: number): string {
  return `${kind ? 'write' : 'read'} to 0x${kernel_address(addr)} of 4 bytes by ${accessor_name(context, pid)} on cpu ${cpu}:`;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

function report(slot: number, addr: number, write: boolean, before: number, after: number): void {
  const other = read_record(slot + KW_OTHER);
  if (other === null) return;
  const mine = call_trace();
  const funcs = [function_of(mine), function_of(other.trace)].sort();
  const title = `BUG: KCSAN: data-race in ${funcs[0]} / ${funcs[1]}`;
  if (!first_report(title)) return;
  const task = current();
  const rule = '='.repeat(66);
  raw_add(G_WARNINGS, 1);
  printk(
    'err',
    [
      rule,
      title,
      '',
      side(plain_read(slot + KW_OTHER_WRITE) !== 0, addr, other.cpu, other.context, other.pid),
      ...other.trace,
      '',
      side(write, addr, this_cpu.id, context_now(), task.pid),
      ...mine,
      '',
      ...(before !== after ? [`value changed: ${hex(before)} -> ${hex(after)}`, ''] : []),
      'Reported by Kernel Concurrency Sanitizer on:',
      `CPU: ${this_cpu.id} PID: ${task.pid} Comm: ${task.comm}`,
      rule,
    ].join('\n'),
  );
}
