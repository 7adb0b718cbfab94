/**
 * KASAN-style lifetime checks: shared objects (kernel/shared-data.ts) and run-time tasklets carry
 * a shadow state and a history (who allocated them, who killed and freed a tasklet, with call
 * traces). An access to a freed one is reported as the kernel's KASAN does, "BUG: KASAN:
 * use-after-free in f", with the access, both histories and, for an access from a tasklet's
 * callback, that tasklet's history too. Each distinct report once per run; each counts as a
 * kernel warning. Nothing here runs unless an object or tasklet is freed or checked.
 *
 * With kasan.module_exit=1 (stress and fuzz of a module set it), a module's exit frees its text
 * and static data (rmmod): its static tasklets are freed then
 * (a later schedule, enable or run of one is a use-after-free like any other), one still
 * scheduled or running as the exit returns is reported there (so is a timer left pending and a
 * work item left queued: kernel/timer.ts and kernel/workqueue.ts look), and a callback of the
 * unloaded module that runs later (an irq handler never freed, a run-time tasklet) is reported
 * as it runs.
 */
import { layout, plain_read, raw_add, raw_load, raw_store } from '../shm/door.ts';
import {
  G_MAX_TASKLETS,
  G_STATIC_TASKLETS,
  G_WARNINGS,
  OBJ_ALLOCATED,
  OBJ_FREED,
  OBJ_HEADER,
  OBJ_SIZE,
  T_ALLOC,
  T_FUNC,
  T_STATE,
  TASKLET_STATE_RUN,
  TASKLET_STATE_SCHED,
  TASKLET_STRIDE,
  TaskletAlloc,
  TH_ALLOCATED,
  TH_FREED,
  TH_KILLED,
} from '../shm/layout.ts';
import { type ModuleDefinition, module_param, on_module_unload, unloaded_module_of } from './module.ts';
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
import { callback_name, tasklet_name } from './tasklet-table.ts';

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

const BUSY = (1 << TASKLET_STATE_SCHED) | (1 << TASKLET_STATE_RUN);

/** Module `m` exited: its text is callbacks [start, end). Runs on the exiting CPU. */
function kasan_module_unload(m: ModuleDefinition, text: { start: number; end: number }): void {
  const statics = plain_read(G_STATIC_TASKLETS);
  const unloadTrace = call_trace(['module']);
  for (let id = 0; id < plain_read(G_MAX_TASKLETS); id++) {
    const at = layout().tasklet(id);
    const func = plain_read(at + T_FUNC);
    if (plain_read(at + T_ALLOC) === TaskletAlloc.Free || func < text.start || func >= text.end) continue;
    const isStatic = id < statics;
    // The module's own tasklet_structs go with its data: freed, with the unload as "Freed by".
    const freedAt = history(id, TH_FREED);
    if (isStatic && freedAt >= 0) write_record(freedAt, unloadTrace);
    const state = raw_load(at + T_STATE);
    if ((state & BUSY) !== 0) {
      const what = (state & (1 << TASKLET_STATE_RUN)) !== 0 ? 'running' : 'scheduled';
      kasan_report('use-after-free', {
        func: 'tasklet_action_common',
        write: false,
        addr: at,
        start: at,
        words: TASKLET_STRIDE,
        cache: isStatic ? `module ${m.name} (.data)` : 'tasklet_struct',
        history: [
          '',
          `tasklet ${tasklet_name(id)} is still ${what} as module '${m.name}' exits: its softirq runs ${callback_name(func)}, text of the unloaded module (tasklet_kill it in the exit path)`,
          ...tasklet_history(id, 'The object is tasklet'),
        ],
      });
    }
    if (isStatic && freedAt >= 0) raw_store(at + T_ALLOC, TaskletAlloc.Free);
  }
}

// Called with kasan.module_exit=1 only: a machine's own workloads end with tasklets still
// queued, as the machine stops rather than unloads them.
on_module_unload(kasan_module_unload);

/**
 * A timer or work item of module `m` still armed (`line` says how) as the module exits: its
 * callback would run from `caller` in freed text, so it is reported now, before the machine ends.
 */
export function kasan_left_armed_at_exit(
  m: ModuleDefinition,
  item: { caller: string; addr: number; words: number; struct: string; isStatic: boolean; line: string },
): void {
  kasan_report('use-after-free', {
    func: item.caller,
    write: false,
    addr: item.addr,
    start: item.addr,
    words: item.words,
    cache: item.isStatic ? `module ${m.name} (.data)` : item.struct,
    history: ['', item.line],
  });
}

/**
 * A callback of an unloaded module about to run (`func`, its callback id): reported once as a
 * use-after-free of the module's text in `caller`. True if it was one. `what` names the runner
 * for the report only: it is on every callback's path, and a name lookup there costs.
 */
export function kasan_unloaded_text(func: number, caller: string, what: () => string): boolean {
  const m = unloaded_module_of(func);
  if (m === null) return false;
  kasan_report('use-after-free', {
    func: caller,
    write: false,
    addr: 0,
    start: 0,
    words: 1,
    cache: `module ${m.name} (.text)`,
    history: [
      '',
      `${what()} runs ${callback_name(func)} of module '${m.name}', which has exited (its text is freed)`,
    ],
  });
  return true;
}
