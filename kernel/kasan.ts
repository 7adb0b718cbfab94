/**
 * KASAN-style lifetime checks: shared objects (kernel/shared-data.ts) and run-time tasklets carry
 * a shadow state and a history (who allocated them, who killed and freed a tasklet, with call
 * traces). An access to a freed one is reported as the kernel's KASAN does, "BUG: KASAN:
 * use-after-free in f", with the access, both histories and, for an access from a tasklet's
 * callback, that tasklet's history too. Each distinct report once per run; each counts as a
 * kernel warning. Nothing here runs unless an object or tasklet is freed or checked.
 */
import { layout, plain_read, raw_add } from '../shm/door.ts';
import {
  G_WARNINGS,
  OBJ_ALLOCATED,
  OBJ_FREED,
  OBJ_HEADER,
  OBJ_SIZE,
  T_ALLOC,
  TASKLET_STRIDE,
  TaskletAlloc,
  TH_ALLOCATED,
  TH_FREED,
  TH_KILLED,
} from '../shm/layout.ts';
import { module_param } from './module.ts';
import { this_cpu } from './percpu.ts';
import { printk } from './printk.ts';
import {
  Context,
  call_trace,
  clear_record,
  context_now,
  first_report,
  history_traces,
  kernel_address,
  read_record,
  type SiteRecord,
  write_record,
} from './sanitizer-record.ts';
import { current } from './sched.ts';
import { tasklet_name } from './tasklet-table.ts';

/** The tasklet whose callback this CPU runs now (-1: none); run_tasklet keeps it. */
export const kasan_running = { tasklet: -1 };

let stacksParam: boolean | null = null;

/** The call trace for a tasklet's history: empty unless traces are on (history_traces). */
function history_trace(extraSkip: readonly string[]): string[] {
  stacksParam ??= module_param('kasan', 'stacks', 0) !== 0;
  return history_traces.on || stacksParam ? call_trace(extraSkip) : [];
}

/** The history of tasklet `id` at `part` (TH_*), or -1 where the table keeps none. */
function history(id: number, part: number): number {
  const at = layout().taskletHistory(id);
  return at < 0 ? -1 : at + part;
}

export function kasan_tasklet_alloc(id: number): void {
  const at = history(id, 0);
  if (at < 0) return;
  write_record(at + TH_ALLOCATED, history_trace(['tasklet-table']));
  clear_record(at + TH_KILLED);
  clear_record(at + TH_FREED);
}

export function kasan_tasklet_kill(id: number): void {
  const at = history(id, TH_KILLED);
  if (at >= 0) write_record(at, history_trace(['tasklet']));
}

export function kasan_tasklet_free(id: number): void {
  const at = history(id, TH_FREED);
  if (at >= 0) write_record(at, history_trace(['tasklet']));
}

/** True if tasklet `id` was freed (and not allocated again). */
export function tasklet_freed(id: number): boolean {
  return plain_read(layout().tasklet(id) + T_ALLOC) === TaskletAlloc.Free && freed_record(id) !== null;
}

function freed_record(id: number): SiteRecord | null {
  const at = history(id, TH_FREED);
  return at < 0 ? null : read_record(at);
}

function stack_section(title: string, record: SiteRecord | null): string[] {
  if (record === null) return [];
  return ['', `${title} task ${record.pid} on cpu ${record.cpu}:`, ...record.trace];
}

function tasklet_history(id: number, what: string): string[] {
  const at = layout().taskletHistory(id);
  if (at < 0) return ['', `${what} ${tasklet_name(id)} (no history kept for tasklet #${id})`];
  return [
    '',
    `${what} ${tasklet_name(id)}:`,
    ...stack_section('Allocated by', read_record(at + TH_ALLOCATED)),
    ...stack_section('Last tasklet_kill by', read_record(at + TH_KILLED)),
    ...stack_section('Freed by', read_record(at + TH_FREED)),
  ];
}

interface BuggyAccess {
  func: string;
  write: boolean;
  addr: number;
  /** The object: its first word, size in words, and what to call it (a cache name). */
  start: number;
  words: number;
  cache: string;
  history: string[];
}

function kasan_report(kind: string, access: BuggyAccess): void {
  const title = `BUG: KASAN: ${kind} in ${access.func}`;
  if (!first_report(title)) return;
  const task = current();
  const rule = '='.repeat(66);
  const running = kasan_running.tasklet;
  const fromTasklet =
    running >= 0 && context_now() === Context.Softirq
      ? tasklet_history(running, 'The access came from the callback of tasklet')
      : [];
  const offset = (access.addr - access.start) * 4;
  raw_add(G_WARNINGS, 1);
  printk(
    'err',
    [
      rule,
      title,
      `${access.write ? 'Write' : 'Read'} of size 4 at addr ${kernel_address(access.addr)} by task ${task.comm}/${task.pid}`,
      '',
      `CPU: ${this_cpu.id} PID: ${task.pid} Comm: ${task.comm}`,
      'Call Trace:',
      ...call_trace(),
      ...access.history,
      ...fromTasklet,
      '',
      `The buggy address belongs to the object at ${kernel_address(access.start)}`,
      ` which belongs to the cache ${access.cache} of size ${access.words * 4}`,
      `The buggy address is located ${offset} bytes inside of`,
      ` ${access.words * 4}-byte region [${kernel_address(access.start)}, ${kernel_address(access.start + access.words)})`,
      rule,
    ].join('\n'),
  );
}

/** An access to a tasklet after tasklet_free: `func` is the kernel function that touched it. */
export function kasan_tasklet_use_after_free(id: number, func: string, write: boolean): void {
  const start = layout().tasklet(id);
  kasan_report('use-after-free', {
    func,
    write,
    addr: start,
    start,
    words: TASKLET_STRIDE,
    cache: 'tasklet_struct',
    history: tasklet_history(id, 'The object is tasklet'),
  });
}

/** An access to a freed shared object; `header` is its header's first word. */
export function kasan_object_use_after_free(
  header: number,
  addr: number,
  write: boolean,
  cache: string,
): void {
  const trace = call_trace();
  kasan_report('use-after-free', {
    func: trace[0]?.trim().split(' ')[0] ?? '?',
    write,
    addr,
    start: header + OBJ_HEADER,
    words: plain_read(header + OBJ_SIZE),
    cache,
    history: [
      ...stack_section('Allocated by', read_record(header + OBJ_ALLOCATED)),
      ...stack_section('Freed by', read_record(header + OBJ_FREED)),
    ],
  });
}

/** kfree of an object that is not live: freed already ("double-free") or static ("invalid-free"). */
export function kasan_bad_free(header: number, kind: 'double-free' | 'invalid-free', cache: string): void {
  kasan_report(kind, {
    func: 'kfree',
    write: true,
    addr: header + OBJ_HEADER,
    start: header + OBJ_HEADER,
    words: plain_read(header + OBJ_SIZE),
    cache,
    history: [
      ...stack_section('Allocated by', read_record(header + OBJ_ALLOCATED)),
      ...stack_section('Freed by', read_record(header + OBJ_FREED)),
    ],
  });
}
