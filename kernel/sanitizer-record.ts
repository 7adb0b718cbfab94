/**
 * What the sanitizers (KCSAN, KASAN) keep about an access or an allocation, in shared memory so
 * any CPU can print it: the task (cpu, pid, context) and its call trace as Latin-1 text; and the
 * pieces of their reports (fake kernel addresses, "task 12" / "interrupt", once-only titles).
 */
import { layout, plain_read, plain_write, raw_cmpxchg, raw_load } from '../shm/door.ts';
import {
  REC_CONTEXT,
  REC_CPU,
  REC_PID,
  REC_TEXT,
  REC_TEXT_WORDS,
  REC_WORDS,
  REPORTED_SLOTS,
} from '../shm/layout.ts';
import { this_cpu } from './percpu.ts';
import { in_hardirq, in_serving_softirq } from './preempt.ts';
import { caller_frames } from './printk.ts';
import { current } from './sched.ts';

/** Files whose frames a report leaves out: the reporting code itself. */
const SANITIZER_FILES = ['printk', 'sanitizer-record', 'kcsan', 'kasan', 'shared-data', 'door'];

export enum Context {
  Task = 0,
  Softirq = 1,
  Hardirq = 2,
}

export function context_now(): Context {
  return in_hardirq() ? Context.Hardirq : in_serving_softirq() ? Context.Softirq : Context.Task;
}

/** How KCSAN names an accessor: "task 12", or "interrupt" for hard and soft irq context. */
export function accessor_name(context: Context, pid: number): string {
  return context === Context.Task ? `task ${pid}` : 'interrupt';
}

/**
 * Whether tasklet histories keep call traces (a stack capture costs tens of µs, and stress kills
 * tasklets all the time): on once a module declares shared data (it opted into the sanitizers;
 * every CPU loads the same modules, so every CPU agrees), or with kasan.stacks=1.
 */
export const history_traces = { on: false };

/** The call trace here, innermost first, decoded as scripts/decode_stacktrace.sh prints it. */
export function call_trace(extraSkip: readonly string[] = []): string[] {
  return caller_frames([...SANITIZER_FILES, ...extraSkip])
    .slice(0, 8)
    .map((f) => ` ${f.func} (${f.where})`);
}

/** The function an access was made in (a report's title names it). */
export function function_of(trace: readonly string[]): string {
  return trace[0]?.trim().split(' ')[0] ?? '?';
}

export interface SiteRecord {
  cpu: number;
  pid: number;
  context: Context;
  trace: string[];
}

/** Writes the current task and `trace` at word `at` (REC_WORDS words). Quiet accesses. */
export function write_record(at: number, trace: readonly string[]): void {
  plain_write(at + REC_PID, current().pid);
  plain_write(at + REC_CONTEXT, context_now());
  if (trace.length === 0) {
    plain_write(at + REC_TEXT, 0);
    plain_write(at + REC_CPU, this_cpu.id + 1);
    return;
  }
  let text = '';
  for (const line of trace) {
    const next = text === '' ? line : `${text}\n${line}`;
    if (next.length > REC_TEXT_WORDS * 4 - 1) break; // whole frames only
    text = next;
  }
  for (let w = 0; w < REC_TEXT_WORDS; w++) {
    let word = 0;
    for (let b = 0; b < 4; b++) word |= (text.charCodeAt(w * 4 + b) & 0xff) << (b * 8);
    plain_write(at + REC_TEXT + w, word);
  }
  plain_write(at + REC_CPU, this_cpu.id + 1);
}

/** The record at `at`, or null if none was written there. */
export function read_record(at: number): SiteRecord | null {
  const cpu = plain_read(at + REC_CPU) - 1;
  if (cpu < 0) return null;
  let text = '';
  for (let w = 0; w < REC_TEXT_WORDS; w++) {
    const word = plain_read(at + REC_TEXT + w);
    let end = false;
    for (let b = 0; b < 4 && !end; b++) {
      const c = (word >>> (b * 8)) & 0xff;
      if (c === 0) end = true;
      else text += String.fromCharCode(c);
    }
    if (end) break;
  }
  return {
    cpu,
    pid: plain_read(at + REC_PID),
    context: plain_read(at + REC_CONTEXT),
    trace: text === '' ? [] : text.split('\n'),
  };
}

export function clear_record(at: number): void {
  plain_write(at + REC_CPU, 0);
}

export { REC_WORDS };

/** A word index as a kernel virtual address (the direct map), as the reports print it. */
export function kernel_address(addr: number): string {
  return `ffff8880${(addr * 4).toString(16).padStart(8, '0')}`;
}

/**
 * True the first time `title` is reported machine-wide: each distinct problem once per run, as
 * lockdep does (KASAN and KCSAN rate-limit in the kernel; a torture run wants each bug once).
 */
export function first_report(title: string): boolean {
  let hash = 0x811c9dc5;
  for (let i = 0; i < title.length; i++) hash = Math.imul(hash ^ title.charCodeAt(i), 0x01000193);
  hash |= 1; // 0 marks an empty slot
  const base = layout().reportedBase;
  for (let i = 0; i < REPORTED_SLOTS; i++) {
    const at = base + (((hash >>> 0) + i) % REPORTED_SLOTS);
    const seen = raw_load(at);
    if (seen === hash) return false;
    if (seen === 0) {
      const prior = raw_cmpxchg(at, 0, hash);
      if (prior === 0) return true;
      if (prior === hash) return false;
    }
  }
  return true; // the table is full: report (a duplicate beats a silent miss)
}
