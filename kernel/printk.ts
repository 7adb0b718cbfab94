/**
 * printk and the WARN family. A CPU thread hands lines to a sink (the worker forwards them to
 * the controller); warnings are also counted in shared memory so tests and reports can see them.
 */
import { memory_attached, raw_add, raw_or } from '../shm/door.ts';
import { G_WARN_ONCE, G_WARNINGS } from '../shm/layout.ts';
import type { LogLevel } from '../shm/protocol.ts';
import { this_cpu } from './percpu.ts';
import { trace } from './trace.ts';

export type { LogLevel };
export type PrintkSink = (level: LogLevel, text: string) => void;

let sink: PrintkSink = (level, text) => {
  process.stderr.write(`<${level}> ${text}\n`);
};
/** Supplies the current task for WARN reports without importing the scheduler here. */
let currentTask: () => { pid: number; comm: string } = () => ({ pid: 0, comm: 'swapper' });

export function setPrintkSink(next: PrintkSink): void {
  sink = next;
}

export function setCurrentTaskSource(source: () => { pid: number; comm: string }): void {
  currentTask = source;
}

export function printk(level: LogLevel, text: string): void {
  trace.printk?.(level, text);
  sink(level, text);
}

export const pr_notice = (text: string): void => printk('notice', text);
export const pr_info = (text: string): void => printk('info', text);
export const pr_warn = (text: string): void => printk('warning', text);
export const pr_err = (text: string): void => printk('err', text);
export const pr_crit = (text: string): void => printk('crit', text);
export const pr_alert = (text: string): void => printk('alert', text);
export const pr_emerg = (text: string): void => printk('emerg', text);
/** pr_debug: printed at KERN_DEBUG (as with DEBUG defined); it is never a kernel report. */
export const pr_debug = (text: string): void => printk('debug', text);

export interface CallFrame {
  func: string;
  /** file:line, relative to the project (or the module's own path). */
  where: string;
}

/**
 * The JS stack's frames, innermost first, without node's and the dependencies' own frames and
 * without those of the files named in `skip` (the reporting code itself).
 */
export function caller_frames(skip: readonly string[] = ['printk']): CallFrame[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames: CallFrame[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const m = /^\s*at (?:(\S+) \()?(?:file:\/\/)?(.*?):(\d+):\d+\)?$/.exec(line);
    if (m === null || m[2].includes('node_modules') || m[2].startsWith('node:')) continue;
    const file = m[2].replace(/^.*?\/(kernel|cpu|modules|harness|test|examples|dist)\//, '$1/');
    if (skip.some((name) => file.endsWith(`/${name}.ts`) || file.endsWith(`/${name}.js`))) continue;
    frames.push({ func: (m[1] ?? '<anonymous>').replace(/^.*\./, ''), where: `${file}:${m[3]}` });
  }
  return frames;
}

/**
 * WARN(cond, site, text): the kernel's warning report when `cond` holds: the cut-here line, the
 * text, `WARNING: CPU: n PID: p at file:line func+off/len` (the emulation's own source line and
 * function; there are no machine-code offsets), the task, a call trace, the end marker. Returns
 * `cond`. `site` names the function when the stack cannot (a caller without one).
 */
export function WARN(condition: boolean, site: string, text: string): boolean {
  return warn_from(condition, site, text, ['printk']);
}

/** WARN, its location the first frame outside the files in `skip` (the WARN_ON wrappers' own). */
export function warn_from(condition: boolean, site: string, text: string, skip: readonly string[]): boolean {
  if (!condition) return false;
  if (memory_attached()) raw_add(G_WARNINGS, 1);
  const task = currentTask();
  const frames = caller_frames(skip);
  const at = frames[0] === undefined ? site : `${frames[0].where} ${site}`;
  // Decoded, as scripts/decode_stacktrace.sh prints it: function (file:line).
  const trace = frames.slice(1, 12).map((f) => ` ${f.func} (${f.where})`);
  printk(
    'warning',
    [
      '------------[ cut here ]------------',
      ...(text === '' ? [] : [text]),
      `WARNING: CPU: ${this_cpu.id} PID: ${task.pid} at ${at}+0x0/0x0`,
      `CPU: ${this_cpu.id} PID: ${task.pid} Comm: ${task.comm}`,
      'Call Trace:',
      ' <TASK>',
      ...trace,
      ' </TASK>',
      '---[ end trace 0000000000000000 ]---',
    ].join('\n'),
  );
  return true;
}

/** Sites of WARN_ONCE: "once" holds machine-wide, like the kernel's static flag per call site. */
export enum WarnOnceSite {
  TaskletSchedNotSet = 0,
  TaskletEnableUnbalanced = 1,
  TaskletFreeBusy = 2,
  TaskletInitQueued = 3,
  TaskletSchedFreed = 4,
  RaiseIrqsOn = 5,
  BhInHardirq = 6,
  BhEnableIrqsOff = 7,
  HandlerEnabledIrqs = 8,
}

export function WARN_ONCE(condition: boolean, id: WarnOnceSite, site: string, text: string): boolean {
  if (!condition) return false;
  const bit = 1 << id;
  const first = !memory_attached() || (raw_or(G_WARN_ONCE, bit) & bit) === 0;
  if (first) return WARN(true, site, text);
  return true;
}
