/**
 * A lockdep-style validator for the spinlocks (kernel/locking/lockdep.c, in small). Each static
 * lock is a lock class. On every acquisition it checks, with state shared by all CPUs:
 * - recursion: the class is already held in this context;
 * - irq safety: a class taken in hard-irq (softirq) context and elsewhere with hard irqs (bhs)
 *   enabled can deadlock against itself on one CPU: "inconsistent {X-ON-W} -> {IN-X-W} usage";
 * - lock order: taking B while holding A records A -> B; a new edge that closes a cycle is a
 *   "possible circular locking dependency".
 * Each report names both call sites and is made once per class and kind (lockdep itself turns
 * off after its first report; a torture run wants each distinct problem once). Reports count as
 * kernel warnings. The accesses are quiet ones: the validator watches, it does not take part.
 */
import { layout, plain_read, plain_write, raw_add, raw_load, raw_or } from '../shm/door.ts';
import {
  G_WARNINGS,
  LOCK_USAGES,
  LOCKDEP_DEPS,
  LOCKDEP_EDGE_SITES,
  LOCKDEP_REPORTED,
  LOCKDEP_USAGE,
  LOCKDEP_USAGE_SITES,
  MAX_SPINLOCKS,
  SITE_WORDS,
} from '../shm/layout.ts';
import { this_cpu } from './percpu.ts';
import { in_hardirq, in_serving_softirq, in_softirq } from './preempt.ts';
import { caller_frames, printk } from './printk.ts';

export enum LockUsage {
  InHardirq = 0,
  HardirqOn = 1,
  InSoftirq = 2,
  SoftirqOn = 3,
}

const USAGE_NAMES = ['IN-HARDIRQ-W', 'HARDIRQ-ON-W', 'IN-SOFTIRQ-W', 'SOFTIRQ-ON-W'];

/** What lockdep has reported about a class (the LOCKDEP_REPORTED bits). */
enum Reported {
  Recursive = 1,
  InconsistentHardirq = 2,
  InconsistentSoftirq = 4,
  Circular = 8,
}

/** How lockdep names a lock and its task in reports; installed by the spinlock table. */
let className: (cls: number) => string = (cls) => `lock#${cls}`;
let currentTask: () => { pid: number; comm: string } = () => ({ pid: 0, comm: 'swapper' });

export function setLockdepNames(
  name: (cls: number) => string,
  task: () => { pid: number; comm: string },
): void {
  className = name;
  currentTask = task;
}

interface HeldLock {
  cls: number;
  site: string;
  /** 0 process, 1 softirq, 2 hardirq: lockdep records no dependency across contexts. */
  context: number;
}

/** The locks this CPU holds, innermost last (an interrupt's locks stack on its task's). */
const held: HeldLock[] = [];

function irqContext(): number {
  return in_hardirq() ? 2 : in_serving_softirq() ? 1 : 0;
}

/** The first call site outside the locking code: where the module took the lock. */
function callSite(): string {
  const f = caller_frames(['printk', 'lockdep', 'spinlock'])[0];
  return f === undefined ? '?' : `${f.func} (${f.where})`;
}

function writeSite(at: number, site: string): void {
  const text = site.slice(0, SITE_WORDS * 4 - 1);
  for (let w = 0; w < SITE_WORDS; w++) {
    let word = 0;
    for (let b = 0; b < 4; b++) word |= (text.charCodeAt(w * 4 + b) & 0xff) << (b * 8);
    plain_write(at + w, word);
  }
}

function readSite(at: number): string {
  let text = '';
  for (let w = 0; w < SITE_WORDS; w++) {
    const word = plain_read(at + w);
    for (let b = 0; b < 4; b++) {
      const c = (word >>> (b * 8)) & 0xff;
      if (c === 0) return text;
      text += String.fromCharCode(c);
    }
  }
  return text;
}

const base = (): number => layout().lockdepBase;
const usageSite = (cls: number, usage: LockUsage): number =>
  base() + LOCKDEP_USAGE_SITES + (cls * LOCK_USAGES + usage) * SITE_WORDS;
const edgeSite = (from: number, to: number): number =>
  base() + LOCKDEP_EDGE_SITES + (from * MAX_SPINLOCKS + to) * SITE_WORDS;

function hasEdge(from: number, to: number): boolean {
  return (raw_load(base() + LOCKDEP_DEPS + from * 2 + (to >> 5)) & (1 << (to & 31))) !== 0;
}

/** A path from -> ... -> to in the dependency graph, as the list of classes on it, or null. */
function path(from: number, to: number): number[] | null {
  const seen = new Set<number>([from]);
  const queue: number[][] = [[from]];
  while (queue.length > 0) {
    const route = queue.shift()!;
    const last = route[route.length - 1];
    for (let next = 0; next < MAX_SPINLOCKS; next++) {
      if (!hasEdge(last, next) || seen.has(next)) continue;
      if (next === to) return [...route, next];
      seen.add(next);
      queue.push([...route, next]);
    }
  }
  return null;
}

/** True the first time `kind` is reported for `cls` machine-wide. */
function firstReport(cls: number, kind: Reported): boolean {
  return (raw_or(base() + LOCKDEP_REPORTED + cls, kind) & kind) === 0;
}

function report(title: string, lines: string[]): void {
  raw_add(G_WARNINGS, 1);
  const rule = '='.repeat(title.length + 9);
  printk('warning', ['', rule, `WARNING: ${title}`, '-'.repeat(rule.length), ...lines].join('\n'));
}

function who(): string {
  const task = currentTask();
  return `${task.comm}/${task.pid}`;
}

/** [HC0[0]:SC1[1]:HE1:SE0]: hardirq and softirq context, hardirqs and softirqs enabled. */
function irqState(): string {
  const hc = in_hardirq() ? 1 : 0;
  const sc = in_serving_softirq() ? 1 : 0;
  return `[HC${hc}[${hc}]:SC${sc}[${sc}]:HE${this_cpu.irqsOff ? 0 : 1}:SE${in_softirq() ? 0 : 1}]`;
}

function checkRecursion(cls: number, site: string, context: number): void {
  const prior = held.find((h) => h.cls === cls && h.context === context);
  if (prior === undefined || !firstReport(cls, Reported.Recursive)) return;
  report('possible recursive locking detected', [
    `${who()} is trying to acquire lock:`,
    `(${className(cls)}), at: ${site}`,
    '',
    'but task is already holding lock:',
    `(${className(cls)}), at: ${prior.site}`,
    '',
    '*** DEADLOCK ***',
  ]);
}

/**
 * Marks the usages this acquisition shows, as lockdep's mark_usage does: IN-* for a (non-try)
 * lock in that context; *-ON only with hard irqs on (with them off no softirq can come either);
 * reports a usage that contradicts an earlier one.
 */
function checkUsage(cls: number, site: string, trylock: boolean): void {
  const usages: LockUsage[] = [];
  if (!trylock && in_hardirq()) usages.push(LockUsage.InHardirq);
  if (!trylock && in_serving_softirq()) usages.push(LockUsage.InSoftirq);
  if (!this_cpu.irqsOff) {
    usages.push(LockUsage.HardirqOn);
    if (!in_softirq()) usages.push(LockUsage.SoftirqOn);
  }
  const word = base() + LOCKDEP_USAGE + cls;
  for (const usage of usages) {
    const bit = 1 << usage;
    const before = raw_or(word, bit);
    if ((before & bit) === 0) writeSite(usageSite(cls, usage), site);
    const opposite = usage ^ 1; // InHardirq <-> HardirqOn, InSoftirq <-> SoftirqOn
    if ((before & (1 << opposite)) === 0) continue;
    const kind = usage < LockUsage.InSoftirq ? Reported.InconsistentHardirq : Reported.InconsistentSoftirq;
    if (!firstReport(cls, kind)) continue;
    report('inconsistent lock state', [
      `inconsistent {${USAGE_NAMES[opposite]}} -> {${USAGE_NAMES[usage]}} usage.`,
      `${who()} ${irqState()} takes:`,
      `(${className(cls)}), at: ${site}`,
      `{${USAGE_NAMES[opposite]}} state was registered at:`,
      `  ${readSite(usageSite(cls, opposite))}`,
      '',
      'Possible unsafe locking scenario:',
      '',
      '       CPU0',
      '       ----',
      `  lock(${className(cls)});`,
      '  <Interrupt>',
      `    lock(${className(cls)});`,
      '',
      ' *** DEADLOCK ***',
    ]);
  }
}

/** Records held -> cls for the locks held in this context; reports an edge that closes a cycle. */
function checkOrder(cls: number, site: string, context: number): void {
  for (const prev of held) {
    if (prev.context !== context || prev.cls === cls) continue;
    if (hasEdge(prev.cls, cls)) continue;
    const cycle = path(cls, prev.cls);
    if (cycle !== null && firstReport(cls, Reported.Circular)) {
      const chain: string[] = [];
      for (let i = cycle.length - 1; i > 0; i--)
        chain.push(
          `-> #${cycle.length - 1 - i} (${className(cycle[i])}):`,
          `       ${readSite(edgeSite(cycle[i - 1], cycle[i]))}`,
          '',
        );
      report('possible circular locking dependency detected', [
        `${who()} is trying to acquire lock:`,
        `(${className(cls)}), at: ${site}`,
        '',
        'but task is already holding lock:',
        `(${className(prev.cls)}), at: ${prev.site}`,
        '',
        'which lock already depends on the new lock.',
        '',
        'the existing dependency chain (in reverse order) is:',
        '',
        ...chain,
        'Possible unsafe locking scenario:',
        '',
        '       CPU0                    CPU1',
        '       ----                    ----',
        `  lock(${className(prev.cls)});`.padEnd(32) + `lock(${className(cls)});`,
        ''.padEnd(32) + `lock(${className(prev.cls)});`,
        `  lock(${className(cls)});`,
        '',
        ' *** DEADLOCK ***',
      ]);
    }
    writeSite(edgeSite(prev.cls, cls), site);
    raw_or(base() + LOCKDEP_DEPS + prev.cls * 2 + (cls >> 5), 1 << (cls & 31));
  }
}

/** lock_acquire: check, then hold. Called before the lock is spun for (after a trylock won it). */
export function lock_acquire(cls: number, trylock = false): void {
  const site = callSite();
  const context = irqContext();
  if (!trylock) checkRecursion(cls, site, context);
  checkUsage(cls, site, trylock);
  checkOrder(cls, site, context);
  held.push({ cls, site, context });
}

/** lock_release: the innermost hold of the class goes. */
export function lock_release(cls: number): void {
  for (let i = held.length - 1; i >= 0; i--) {
    if (held[i].cls !== cls) continue;
    held.splice(i, 1);
    return;
  }
}

/** The locks this CPU holds now (for reports of sleeping with a lock held). */
export function held_locks(): string[] {
  return held.map((h) => `${className(h.cls)}, at: ${h.site}`);
}

/** The lock classes this CPU holds in its current context, as a 64-bit mask in two words. */
export function held_lock_mask(): [number, number] {
  const context = irqContext();
  let lo = 0;
  let hi = 0;
  for (const h of held) {
    if (h.context !== context) continue;
    if (h.cls < 32) lo |= 1 << h.cls;
    else hi |= 1 << (h.cls - 32);
  }
  return [lo, hi];
}
