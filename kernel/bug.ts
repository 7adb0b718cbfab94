/**
 * include/asm-generic/bug.h for modules: WARN_ON and WARN_ON_ONCE (the WARN report, kernel/printk.ts),
 * and BUG_ON/BUG: "kernel BUG at file:line!", then an oops of whatever context called it (the
 * callback, handler or task dies; the run ends as it does for any oops).
 */
import { type CallFrame, caller_frames, printk, warn_from } from './printk.ts';

const SKIP = ['printk', 'bug'];

/** The frame that called WARN_ON or BUG: the report's "at file:line func". */
function caller(): CallFrame {
  return caller_frames(SKIP)[0] ?? { func: 'unknown', where: 'unknown' };
}

/** WARN_ON(cond): the warning report, with no text, when `cond` holds. Returns `cond`. */
export function WARN_ON(condition: boolean): boolean {
  return condition && warn_from(true, caller().func, '', SKIP);
}

/**
 * Call sites whose WARN_ON_ONCE fired, on this CPU: the kernel's flag is one static per call
 * site, here one per CPU thread (so a site can report once on each CPU).
 */
const warnedSites = new Set<string>();

/** WARN_ON_ONCE(cond): as WARN_ON, the first time only at its call site. Returns `cond`. */
export function WARN_ON_ONCE(condition: boolean): boolean {
  if (!condition) return false;
  const site = caller();
  if (!warnedSites.has(site.where)) {
    warnedSites.add(site.where);
    warn_from(true, site.func, '', SKIP);
  }
  return true;
}

/** The error a BUG() throws: the oops that ends the context that hit it. */
export class KernelBug extends Error {
  constructor(where: string) {
    super(`kernel BUG at ${where}!`);
    this.name = 'KernelBug';
  }
}

/** BUG(): "kernel BUG at file:line!" and an oops; it does not return. */
export function BUG(): never {
  const { where } = caller();
  printk('crit', `------------[ cut here ]------------\nkernel BUG at ${where}!`);
  throw new KernelBug(where);
}

/** BUG_ON(cond): BUG() when `cond` holds. */
export function BUG_ON(condition: boolean): void {
  if (condition) BUG();
}
