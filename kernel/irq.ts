/**
 * Hard interrupts. A line is raised on a CPU by setting its bit in that CPU's pending word and
 * waking the CPU; the CPU takes it only where its interrupts are enabled: at interrupt points
 * (every shared access, spin loops), when it re-enables interrupts, and in its idle loop.
 */
import {
  cpu_relax,
  layout,
  plain_inc,
  plain_read,
  raw_add,
  raw_and,
  raw_cmpxchg,
  raw_load,
  raw_or,
  raw_store,
  raw_xchg,
  setInterruptPoint,
} from '../shm/door.ts';
import {
  C_IN_HANDLER,
  C_IRQ_COUNT,
  C_IRQ_PENDING,
  C_IRQS_TAKEN,
  G_IRQ_MACHINE_WIDE,
  IRQD_DEPTH,
  IRQD_DEV,
  IRQD_FUNC,
  IRQD_INPROGRESS,
  IRQD_PENDING,
  NR_IRQS,
} from '../shm/layout.ts';
import { cpu_online, cpumask_any_but, nr_cpu_ids } from './cpumask.ts';
import { irqs_disabled, local_irq_disable, setIrqDelivery, setIrqsOff } from './irqflags.ts';
import { kasan_unloaded_text } from './kasan.ts';
import { module_param } from './module.ts';
import { oops } from './oops.ts';
import { this_cpu } from './percpu.ts';
import { pr_err, WARN, WARN_ONCE, WarnOnceSite } from './printk.ts';
import { irq_enter, irq_exit } from './softirq.ts';
import { callback_by_id, known_callback_id } from './tasklet-table.ts';
import { timerDue } from './tick.ts';
import { trace } from './trace.ts';
import { might_sleep } from './wait.ts';
import { kick_cpu } from './wake.ts';

/** Local timer interrupt (/proc/interrupts "LOC"). */
export const TIMER_IRQ = 0;
/** Function-call IPI (/proc/interrupts "CAL"): controller commands, hotplug takeover. */
export const CALL_FUNCTION_IRQ = 1;
/** Lines 2..31 are free for modules' request_irq. */
export const FIRST_DEVICE_IRQ = 2;

export enum irqreturn {
  IRQ_NONE = 0,
  IRQ_HANDLED = 1,
}

/** Returns irqreturn like a kernel handler (IRQ_NONE: not its device); nothing counts as IRQ_HANDLED. */
export type IrqHandler = (irq: number, dev: unknown) => unknown;

interface IrqAction {
  handler: IrqHandler;
  name: string;
  dev: unknown;
}

const actions: (IrqAction | null)[] = new Array(NR_IRQS).fill(null);
/** Lines taken here with no handler at all, reported once each. */
const noHandler = new Set<number>();

/**
 * note_interrupt's spurious-interrupt detector, per line on this CPU: of every 100 000
 * interrupts, more than 99 900 whose handler returned IRQ_NONE is a device nobody handles
 * ("nobody cared"): the line is disabled here. A line with no handler is not counted here.
 */
const SPURIOUS_WINDOW = 100_000;
const SPURIOUS_LIMIT = 99_900;
const irqCount = new Array<number>(NR_IRQS).fill(0);
const irqsUnhandled = new Array<number>(NR_IRQS).fill(0);
const disabledLines = new Set<number>();

function note_interrupt(irq: number, action: IrqAction, ret: irqreturn): void {
  if (ret === irqreturn.IRQ_NONE) irqsUnhandled[irq]++;
  if (++irqCount[irq] < SPURIOUS_WINDOW) return;
  if (irqsUnhandled[irq] > SPURIOUS_LIMIT) {
    pr_err(
      [
        `irq ${irq}: nobody cared (try booting with the "irqpoll" option)`,
        'handlers:',
        `[<${action.handler.name || 'handler'}>] ${action.name}`,
        `Disabling IRQ #${irq}`,
      ].join('\n'),
    );
    disabledLines.add(irq);
  }
  irqCount[irq] = 0;
  irqsUnhandled[irq] = 0;
}

export const EBUSY = 16;
export const EINVAL = 22;

/**
 * Installs a handler. A module's callback (listed in its `callbacks`, so every CPU knows it) with
 * a numeric (or no) dev_id is installed machine-wide, as the kernel's request_irq is: any CPU
 * that takes the line runs it, and free_irq releases it everywhere. Any other handler is
 * installed on this CPU only (modules' `irqs` do that on every CPU at boot).
 */
export function request_irq(irq: number, handler: IrqHandler, name: string, dev: unknown = null): number {
  if (!Number.isInteger(irq) || irq < 0 || irq >= NR_IRQS) return -EINVAL;
  if (actions[irq] !== null) return -EBUSY;
  const id = known_callback_id(handler);
  if (id !== undefined && (dev === null || typeof dev === 'number')) {
    const desc = layout().irqDesc(irq);
    raw_store(desc + IRQD_DEV, (dev as number | null) ?? 0);
    if (raw_cmpxchg(desc + IRQD_FUNC, 0, id + 1) !== 0) return -EBUSY;
    // irq_startup with the first action: the line comes up enabled, nothing left pending.
    raw_store(desc + IRQD_DEPTH, 0);
    raw_store(desc + IRQD_PENDING, 0);
    raw_or(G_IRQ_MACHINE_WIDE, 1 << irq);
    return 0;
  }
  return request_percpu_irq(irq, handler, name, dev);
}

/** Installs a handler on this CPU only (the boot-time lines: timer, IPI, modules' `irqs`). */
export function request_percpu_irq(
  irq: number,
  handler: IrqHandler,
  name: string,
  dev: unknown = null,
): number {
  if (!Number.isInteger(irq) || irq < 0 || irq >= NR_IRQS) return -EINVAL;
  if (actions[irq] !== null) return -EBUSY;
  actions[irq] = { handler, name, dev };
  return 0;
}

/**
 * Releases the line's handler. A machine-wide one goes everywhere, and free_irq waits until no
 * CPU runs it any more (synchronize_irq): after it returns the handler cannot run. The line is
 * then masked: a device that still raises it is ignored, not "nobody cared".
 */
export function free_irq(irq: number): void {
  const desc = layout().irqDesc(irq);
  if (actions[irq] === null && raw_load(desc + IRQD_FUNC) !== 0) {
    raw_store(desc + IRQD_FUNC, 0);
    synchronize_irq(irq);
    return;
  }
  actions[irq] = null;
}

/**
 * Waits until no other CPU runs a machine-wide handler of `irq`. Also while the machine stops
 * (module exit runs as the other CPUs wind down, still taking interrupts): a handler always
 * ends, and one that never does hangs free_irq as it would hang the kernel's.
 */
export function synchronize_irq(irq: number): void {
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) {
    if (cpu === this_cpu.id) continue;
    while (raw_load(layout().cpu(cpu) + C_IN_HANDLER) === irq + 1) cpu_relax();
  }
}

function valid_line(irq: number, what: string): boolean {
  if (Number.isInteger(irq) && irq >= FIRST_DEVICE_IRQ && irq < NR_IRQS) return true;
  throw new RangeError(
    `${what}(${irq}): not a device interrupt line (${FIRST_DEVICE_IRQ} to ${NR_IRQS - 1})`,
  );
}

/**
 * disable_irq_nosync: masks the line on every CPU (nesting: as many enable_irq calls unmask it).
 * A raise meanwhile is kept pending, and enable_irq resends it. A handler already running on
 * another CPU runs on: this does not wait for it (disable_irq does).
 */
export function disable_irq_nosync(irq: number): void {
  if (valid_line(irq, 'disable_irq_nosync')) raw_add(layout().irqDesc(irq) + IRQD_DEPTH, 1);
}

/** disable_irq: masks the line, then waits until no other CPU runs its handler (it may sleep). */
export function disable_irq(irq: number): void {
  might_sleep('disable_irq');
  disable_irq_nosync(irq);
  synchronize_irq(irq);
}

/**
 * enable_irq: undoes one disable_irq; the last one unmasks the line and resends a raise that
 * came while it was masked (check_irq_resend), here on this CPU. One too many is the kernel's
 * "Unbalanced enable" warning, and the line stays enabled.
 */
export function enable_irq(irq: number): void {
  if (!valid_line(irq, 'enable_irq')) return;
  const desc = layout().irqDesc(irq);
  for (;;) {
    const depth = raw_load(desc + IRQD_DEPTH);
    if (depth === 0) {
      WARN(true, 'kernel/irq/manage.c:__enable_irq', `Unbalanced enable for IRQ ${irq}`);
      return;
    }
    if (raw_cmpxchg(desc + IRQD_DEPTH, depth, depth - 1) !== depth) continue;
    if (depth === 1 && raw_xchg(desc + IRQD_PENDING, 0) !== 0) raise_irq(this_cpu.id, irq);
    return;
  }
}

/** The line's machine-wide handler (handle_irq has marked this CPU as in it: synchronize_irq). */
function shared_action(irq: number): IrqAction | null {
  const desc = layout().irqDesc(irq);
  const func = raw_load(desc + IRQD_FUNC);
  if (func === 0) return null;
  kasan_unloaded_text(func - 1, 'handle_irq_event', () => `irq ${irq}`); // a module that exited without free_irq
  return { handler: callback_by_id(func - 1) as IrqHandler, name: 'irq', dev: plain_read(desc + IRQD_DEV) };
}

export function irq_name(irq: number): string | null {
  return actions[irq]?.name ?? null;
}

/** The device lines this CPU has a handler on, by name (what /proc/interrupts lists). */
export function registered_irqs(): Record<number, string> {
  const lines: Record<number, string> = {};
  for (let irq = FIRST_DEVICE_IRQ; irq < NR_IRQS; irq++) {
    const action = actions[irq];
    if (action !== null) lines[irq] = action.name;
  }
  return lines;
}

/**
 * Raises `irq` on `cpu`, from any thread. An offline CPU's interrupts go to another online CPU,
 * as the kernel migrates irq affinity away from a dead CPU.
 */
export function raise_irq(cpu: number, irq: number): void {
  let target = cpu;
  if (!cpu_online(target)) {
    const other = cpumask_any_but(cpu);
    if (other >= 0) target = other;
  }
  raw_or(layout().cpu(target) + C_IRQ_PENDING, 1 << irq);
  kick_cpu(target);
}

/** An IPI from this CPU (smp_call_function-style kick). */
export const send_IPI = raise_irq;

/**
 * Takes the pending interrupts, lowest line first, one at a time as the hardware does: each
 * line's bit is cleared only as its handler starts, so a line still pending when irq_exit's
 * softirq processing enables interrupts is taken right there, nested in the softirq.
 */
export function do_IRQ(): void {
  const word = this_cpu.base + C_IRQ_PENDING;
  setIrqsOff(true);
  for (let pending = raw_load(word); pending !== 0; pending = raw_load(word)) {
    const bit = pending & -pending;
    if ((raw_and(word, ~bit) & bit) !== 0) handle_irq(31 - Math.clz32(bit));
  }
  setIrqsOff(false);
}

/** Takes one line now if it is pending (a dying CPU flushing its function-call queue). */
export function take_pending_irq(irq: number): void {
  const bit = 1 << irq;
  if ((raw_and(this_cpu.base + C_IRQ_PENDING, ~bit) & bit) === 0) return;
  const wasOff = this_cpu.irqsOff;
  setIrqsOff(true);
  handle_irq(irq);
  setIrqsOff(wasOff);
}

function handle_irq(irq: number): void {
  irq_enter();
  if (irq < FIRST_DEVICE_IRQ) run_action(irq);
  else {
    // Marked before the line's depth is read, and disable_irq raises the depth before it waits
    // for the mark to go: either this CPU sees the line masked, or disable_irq waits for it.
    raw_store(this_cpu.base + C_IN_HANDLER, irq + 1);
    try {
      const desc = layout().irqDesc(irq);
      // handle_edge_irq on a masked line: IRQS_PENDING, no handler, not counted.
      if (raw_load(desc + IRQD_DEPTH) !== 0) raw_store(desc + IRQD_PENDING, 1);
      else if (actions[irq] !== null || concurrentHandlers) run_action(irq);
      else run_one_at_a_time(irq, desc);
    } finally {
      // Also when the machine halts in the handler: synchronize_irq elsewhere waits for this word.
      raw_store(this_cpu.base + C_IN_HANDLER, 0);
    }
  }
  irq_exit();
}

/**
 * A machine-wide line's handler runs on one CPU at a time, as handle_edge_irq makes it
 * (IRQD_IRQ_INPROGRESS): a raise that finds it running on another CPU is marked pending, and
 * the CPU running it runs it again, as often as raises came meanwhile (they coalesce, as edges
 * do). The mark is set before the try and read after the release, so no raise is lost between
 * them. A line masked meanwhile keeps its mark for enable_irq to resend.
 */
function run_one_at_a_time(irq: number, desc: number): void {
  raw_store(desc + IRQD_PENDING, 1);
  while (raw_load(desc + IRQD_DEPTH) === 0 && raw_cmpxchg(desc + IRQD_INPROGRESS, 0, this_cpu.id + 1) === 0) {
    try {
      if (raw_xchg(desc + IRQD_PENDING, 0) !== 0) run_action(irq);
    } finally {
      raw_store(desc + IRQD_INPROGRESS, 0);
    }
    if (raw_load(desc + IRQD_PENDING) === 0) return;
  }
}

function run_action(irq: number): void {
  plain_inc(this_cpu.base + C_IRQ_COUNT + irq);
  plain_inc(this_cpu.base + C_IRQS_TAKEN);
  const local = actions[irq];
  const action = disabledLines.has(irq) ? null : (local ?? shared_action(irq));
  if (action === null) {
    // A machine-wide line without a handler is masked (freed, or not requested again yet), and
    // so is one "nobody cared" disabled: the kernel would not have delivered it. A line never
    // requested at all is what x86 reports for a vector with no handler (counted, once).
    if ((raw_load(G_IRQ_MACHINE_WIDE) & (1 << irq)) === 0 && !disabledLines.has(irq)) {
      if (!noHandler.has(irq)) pr_err(`do_IRQ: ${this_cpu.id}.${irq} No irq handler for vector`);
      noHandler.add(irq);
    }
  } else {
    trace.irq_handler_entry?.(irq);
    let ret: unknown = irqreturn.IRQ_NONE;
    try {
      ret = action.handler(irq, action.dev);
    } catch (error) {
      // An oops in the handler: report it and leave the interrupt properly (irq_exit after).
      oops(error, 'hardirq', `irq ${irq} (${action.name})`);
    }
    // __handle_irq_event_percpu: a handler must leave interrupts off (one that turned them on
    // let another interrupt nest in it); the kernel warns once and turns them off again.
    if (
      WARN_ONCE(
        !irqs_disabled(),
        WarnOnceSite.HandlerEnabledIrqs,
        '__handle_irq_event_percpu',
        `irq ${irq} handler ${action.handler.name || 'handler'}+0x0/0x0 enabled interrupts`,
      )
    )
      local_irq_disable();
    // A handler that returns nothing counts as IRQ_HANDLED (most modules here return nothing).
    const result = ret === irqreturn.IRQ_NONE ? irqreturn.IRQ_NONE : irqreturn.IRQ_HANDLED;
    trace.irq_handler_exit?.(irq, result);
    note_interrupt(irq, action, result);
  }
}

/** Checks the local timer once every this many interrupt points (a clock read costs ~30 ns). */
let timerCheckInterval = 128;
let timerCountdown = timerCheckInterval;

export function set_timer_check_interval(points: number): void {
  timerCheckInterval = points;
  timerCountdown = points;
}

/** Raises the local timer line if its deadline passed. */
export function poll_local_timer(): void {
  if (timerDue()) raw_or(this_cpu.base + C_IRQ_PENDING, 1 << TIMER_IRQ);
}

function interruptPoint(): void {
  if (this_cpu.irqsOff) return;
  if (--timerCountdown === 0) {
    timerCountdown = timerCheckInterval;
    poll_local_timer();
  }
  // A plain read: this runs at every shared access, and each Atomics call is an out-of-line
  // builtin (~10 ns) in V8. Racing with raise_irq only moves delivery to a later point; the
  // exchange in do_IRQ is the access that synchronizes with the raiser.
  if (plain_read(this_cpu.base + C_IRQ_PENDING) !== 0) do_IRQ();
}

/**
 * irq.concurrent_handlers=1: a machine-wide line's handler may run on several CPUs at once, as
 * it did before this build serialised it (module repros of format 3 and older replay with it).
 */
let concurrentHandlers = false;

/** Wires interrupt delivery into the shared-access door and local_irq_enable. */
export function init_irq_delivery(): void {
  concurrentHandlers = module_param('irq', 'concurrent_handlers', 0) !== 0;
  setIrqDelivery(do_IRQ);
  setInterruptPoint(interruptPoint);
}
