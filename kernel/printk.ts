/**
 * printk and the WARN family. A CPU thread hands lines to a sink (the worker forwards them to
 * the controller); warnings are also counted in shared memory so tests and reports can see them.
 */
import { memory_attached, raw_add, raw_or } from '../shm/door.ts';
import { G_WARN_ONCE, G_WARNINGS } from '../shm/layout.ts';
import type { LogLevel } from '../shm/protocol.ts';
import { this_cpu } from './percpu.ts';

export type { LogLevel };
export type PrintkSink = (level: LogLevel, text: string) => void;

let sink: PrintkSink = (level, text) => {
  process.stderr.write(`<${level}> ${text}\n`);
};
/** Supplies the current task's pid for WARN lines without importing the scheduler here. */
let currentPid: () => number = () => 0;

export function setPrintkSink(next: PrintkSink): void {
  sink = next;
}

export function setCurrentPidSource(source: () => number): void {
  currentPid = source;
}

export function printk(level: LogLevel, text: string): void {
  sink(level, text);
}

export const pr_notice = (text: string): void => printk('notice', text);
export const pr_info = (text: string): void => printk('info', text);
export const pr_warn = (text: string): void => printk('warning', text);
export const pr_err = (text: string): void => printk('err', text);

/** WARN(cond, text): prints the kernel's WARNING line with CPU, PID and site; returns cond. */
export function WARN(condition: boolean, site: string, text: string): boolean {
  if (!condition) return false;
  if (memory_attached()) raw_add(G_WARNINGS, 1);
  printk('warning', `${text}\nWARNING: CPU: ${this_cpu.id} PID: ${currentPid()} at ${site}`);
  return true;
}

/** Sites of WARN_ONCE: "once" holds machine-wide, like the kernel's static flag per call site. */
export enum WarnOnceSite {
  TaskletSchedNotSet = 0,
  TaskletEnableUnbalanced = 1,
  TaskletFreeBusy = 2,
  TaskletInitQueued = 3,
  TaskletSchedFreed = 4,
}

export function WARN_ONCE(condition: boolean, id: WarnOnceSite, site: string, text: string): boolean {
  if (!condition) return false;
  const bit = 1 << id;
  const first = !memory_attached() || (raw_or(G_WARN_ONCE, bit) & bit) === 0;
  if (first) return WARN(true, site, text);
  return true;
}
