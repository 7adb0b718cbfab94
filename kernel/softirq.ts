/**
 * The softirq core of kernel/softirq.c: the ten vectors, raising, the bounded restart loop of
 * handle_softirqs, ksoftirqd/N, irq_enter/irq_exit and local_bh_disable/enable.
 */

import { layout, local_or, local_read, local_write, plain_inc, plain_read } from '../shm/door.ts';
import {
  C_KSOFTIRQD_WAKEUPS,
  C_SOFTIRQ_COUNT,
  C_SOFTIRQ_DEFERRED,
  C_SOFTIRQ_INVOCATIONS,
  C_SOFTIRQ_PENDING,
} from '../shm/layout.ts';
import { local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save } from './irqflags.ts';
import { oops } from './oops.ts';
import { this_cpu } from './percpu.ts';
import {
  HARDIRQ_OFFSET,
  in_hardirq,
  in_interrupt,
  PREEMPT_OFFSET,
  preempt_count_add,
  preempt_count_sub,
  SOFTIRQ_DISABLE_OFFSET,
  SOFTIRQ_OFFSET,
} from './preempt.ts';
import { pr_err, pr_warn, WARN_ONCE, WarnOnceSite } from './printk.ts';
import {
  KSOFTIRQD_PID_BASE,
  kthread_run,
  need_resched,
  set_current_state,
  type Task,
  type TaskBody,
  TaskState,
  wake_up_process,
} from './sched.ts';
import { jiffies, msecs_to_jiffies, time_before } from './tick.ts';
import { trace } from './trace.ts';

export const HI_SOFTIRQ = 0;
export const TIMER_SOFTIRQ = 1;
export const NET_TX_SOFTIRQ = 2;
export const NET_RX_SOFTIRQ = 3;
export const BLOCK_SOFTIRQ = 4;
export const IRQ_POLL_SOFTIRQ = 5;
export const TASKLET_SOFTIRQ = 6;
export const SCHED_SOFTIRQ = 7;
export const HRTIMER_SOFTIRQ = 8;
export const RCU_SOFTIRQ = 9;

export const softirq_to_name = [
  'HI',
  'TIMER',
  'NET_TX',
  'NET_RX',
  'BLOCK',
  'IRQ_POLL',
  'TASKLET',
  'SCHED',
  'HRTIMER',
  'RCU',
] as const;

export const MAX_SOFTIRQ_TIME_MS = 2;
export const MAX_SOFTIRQ_RESTART = 10;

export type SoftirqAction = () => void;

const softirq_vec: (SoftirqAction | null)[] = new Array(softirq_to_name.length).fill(null);

/** The pieces of the softirq core that bug injection may replace (see harness/mutants). */
export const softirqOps = {
  /** Vectors in the order a pass runs them: lowest number first. */
  order: softirq_to_name.map((_, nr) => nr),
  /** handle_softirqs' bounds: MAX_SOFTIRQ_RESTART passes, MAX_SOFTIRQ_TIME_MS. */
  maxRestart: MAX_SOFTIRQ_RESTART,
  maxTimeMs: MAX_SOFTIRQ_TIME_MS,
  /** What handle_softirqs does with the work it leaves at a bound: ksoftirqd must run it. */
  defer: (): void => wakeup_softirqd(),
  /** The preempt_count an invocation serves softirqs at (from irq_exit and ksoftirqd alike). */
  servingOffset: (_ksirqd: boolean): number => SOFTIRQ_OFFSET,
};

/** How often `cpu` has run softirq vector `nr` (the /proc/softirqs cell). */
export function kstat_softirqs_cpu(nr: number, cpu: number): number {
  return plain_read(layout().cpu(cpu) + C_SOFTIRQ_COUNT + nr);
}

export function open_softirq(nr: number, action: SoftirqAction): void {
  softirq_vec[nr] = action;
}

function pendingWord(): number {
  return this_cpu.base + C_SOFTIRQ_PENDING;
}

/** The pending word is CPU-local (shm/door.ts): only this CPU touches it, with interrupts off. */
export function local_softirq_pending(): number {
  return local_read(pendingWord());
}

export function __raise_softirq_irqoff(nr: number): void {
  // lockdep_assert_irqs_disabled(): the pending word is only safe with interrupts off.
  if (!this_cpu.irqsOff) {
    WARN_ONCE(
      true,
      WarnOnceSite.RaiseIrqsOn,
      '__raise_softirq_irqoff',
      '__raise_softirq_irqoff called with interrupts enabled (lockdep_assert_irqs_disabled)',
    );
  }
  trace.softirq_raise?.(nr);
  local_or(pendingWord(), 1 << nr);
}

export function raise_softirq_irqoff(nr: number): void {
  __raise_softirq_irqoff(nr);
  // Outside interrupt context nobody will run it on the way out of an irq: ksoftirqd must.
  if (!in_interrupt()) wakeup_softirqd();
}

export function raise_softirq(nr: number): void {
  const flags = local_irq_save();
  raise_softirq_irqoff(nr);
  local_irq_restore(flags);
}

let ksoftirqd: Task | null = null;

export function this_ksoftirqd(): Task | null {
  return ksoftirqd;
}

export function wakeup_softirqd(): void {
  if (ksoftirqd !== null && wake_up_process(ksoftirqd)) plain_inc(this_cpu.base + C_KSOFTIRQD_WAKEUPS);
}

/**
 * handle_softirqs (__do_softirq): runs with interrupts disabled on entry and exit. Work raised
 * during a pass is handled by a later pass, for at most MAX_SOFTIRQ_RESTART passes and while
 * jiffies is before `end` (MAX_SOFTIRQ_TIME_MS in jiffies: at HZ=250 that is the next tick);
 * what is left then goes to ksoftirqd.
 */
export function handle_softirqs(ksirqd: boolean): void {
  plain_inc(this_cpu.base + C_SOFTIRQ_INVOCATIONS);
  const end = jiffies() + msecs_to_jiffies(softirqOps.maxTimeMs);
  let maxRestart = softirqOps.maxRestart;
  let pending = local_softirq_pending();
  const serving = softirqOps.servingOffset(ksirqd);
  preempt_count_add(serving);
  const counts = this_cpu.base + C_SOFTIRQ_COUNT;
  for (;;) {
    local_write(pendingWord(), 0);
    local_irq_enable();
    for (const nr of softirqOps.order) {
      if ((pending & (1 << nr)) === 0) continue;
      plain_inc(counts + nr);
      trace.softirq_entry?.(nr);
      const prev = this_cpu.preempt;
      try {
        softirq_vec[nr]?.();
      } catch (error) {
        // An oops in the action: report it, the pass and the softirq count stay balanced.
        oops(error, 'softirq', `${softirq_to_name[nr]} softirq action`);
      }
      trace.softirq_exit?.(nr);
      if (this_cpu.preempt !== prev) preempt_leak(nr, prev);
    }
    local_irq_disable();
    pending = local_softirq_pending();
    if (pending === 0) break;
    if (time_before(jiffies(), end) && !need_resched() && --maxRestart > 0) continue;
    plain_inc(this_cpu.base + C_SOFTIRQ_DEFERRED);
    softirqOps.defer();
    break;
  }
  preempt_count_sub(serving);
}

/** A softirq action returned with another preempt_count: say so, as the kernel does, and repair it. */
function preempt_leak(nr: number, prev: number): void {
  const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
  const action = softirq_vec[nr]?.name || '(none)';
  pr_err(
    `softirq: huh, entered softirq ${nr} ${softirq_to_name[nr]} ${action} with preempt_count ${hex(prev)}, exited with ${hex(this_cpu.preempt)}?`,
  );
  preempt_count_add(prev - this_cpu.preempt);
}

/** do_softirq: run pending softirqs now unless already in interrupt context. */
export function do_softirq(): void {
  if (in_interrupt()) return;
  const flags = local_irq_save();
  if (local_softirq_pending() !== 0) handle_softirqs(false);
  local_irq_restore(flags);
}

export function irq_enter(): void {
  preempt_count_add(HARDIRQ_OFFSET);
}

/** Leaving the outermost hard interrupt runs pending softirqs, with this CPU's current task. */
export function irq_exit(): void {
  preempt_count_sub(HARDIRQ_OFFSET);
  if (!in_interrupt() && local_softirq_pending() !== 0) handle_softirqs(false);
}

/** bh disable and enable from a hard interrupt are bugs (the kernel warns and carries on). */
function warn_bh_in_hardirq(call: string): void {
  WARN_ONCE(in_hardirq(), WarnOnceSite.BhInHardirq, call, `${call} in hard interrupt context`);
}

export function local_bh_disable(): void {
  warn_bh_in_hardirq('local_bh_disable');
  preempt_count_add(SOFTIRQ_DISABLE_OFFSET);
}

/**
 * __local_bh_enable_ip: preemption stays disabled while the softirqs raised meanwhile run, so
 * they run at preempt_count 0x101; with interrupts off they run all the same, after the warning
 * lockdep_assert_irqs_enabled gives. A nested enable leaves the softirq count set: nothing runs.
 */
export function local_bh_enable(): void {
  warn_bh_in_hardirq('local_bh_enable');
  WARN_ONCE(
    this_cpu.irqsOff,
    WarnOnceSite.BhEnableIrqsOff,
    'local_bh_enable',
    'local_bh_enable with interrupts disabled (lockdep_assert_irqs_enabled)',
  );
  preempt_count_sub(SOFTIRQ_DISABLE_OFFSET - PREEMPT_OFFSET);
  if (!in_interrupt() && local_softirq_pending() !== 0) do_softirq();
  preempt_count_sub(PREEMPT_OFFSET);
}

let idleSoftirqReports = 0;

/**
 * can_stop_idle_tick's check (kernel/time/tick-sched.c), made as the CPU goes idle: softirq work
 * still pending here was left without a wake-up for ksoftirqd (a restart bound that deferred
 * silently, or __raise_softirq_irqoff outside interrupt context), so nothing runs it before the
 * next interrupt. Ten reports at most, as there. A quiet read: idling is not a race window.
 */
export function report_idle_softirq(): void {
  if (idleSoftirqReports >= 10) return;
  const pending = plain_read(pendingWord());
  if (pending === 0) return;
  idleSoftirqReports++;
  const handler = pending.toString(16).padStart(2, '0');
  pr_warn(`NOHZ tick-stop error: Non-RCU local softirq work is pending, handler #${handler}!!!`);
}

/** ksoftirqd/N: runs pending softirqs in process context, sleeping while nothing is pending. */
function* run_ksoftirqd(): TaskBody {
  for (;;) {
    if (local_softirq_pending() === 0) {
      set_current_state(TaskState.Sleeping);
      yield;
      continue;
    }
    local_irq_disable();
    if (local_softirq_pending() !== 0) handle_softirqs(true);
    local_irq_enable();
    yield; // cond_resched()
  }
}

export function spawn_ksoftirqd(cpu: number): Task {
  ksoftirqd = kthread_run(run_ksoftirqd, `ksoftirqd/${cpu}`, KSOFTIRQD_PID_BASE + cpu, true);
  return ksoftirqd;
}
