/**
 * CPU hot-unplug. A dying CPU hands its interrupts to a live CPU (the heir), asks it to take
 * over its tasklet queues, and parks once the heir has (the kernel reports a CPU dead only after
 * CPUHP_SOFTIRQ_DEAD). The heir splices the queues onto its own in a cpuhp task.
 */

import {
  cpu_pause,
  futex_wake,
  layout,
  local_read,
  local_write,
  plain_inc,
  READ_ONCE,
  raw_and,
  raw_load,
  raw_or,
  raw_store,
  raw_xchg,
  WRITE_ONCE,
} from '../shm/door.ts';
import {
  C_HI_HEAD,
  C_IRQ_PENDING,
  C_OFFLINE_COUNT,
  C_SOFTIRQ_PENDING,
  C_STATE,
  C_TAKEOVER,
  C_VEC_HEAD,
  CpuState,
  G_STOP,
} from '../shm/layout.ts';
import { cpumask_any_but, set_cpu_online } from './cpumask.ts';
import { CALL_FUNCTION_IRQ, raise_irq, TIMER_IRQ, take_pending_irq } from './irq.ts';
import { local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save } from './irqflags.ts';
import { this_cpu } from './percpu.ts';
import { kthread_run, type TaskBody } from './sched.ts';
import { HI_SOFTIRQ, raise_softirq_irqoff, TASKLET_SOFTIRQ } from './softirq.ts';
import { timers_dead_cpu } from './timer.ts';
import { trace } from './trace.ts';
import { notify_controller } from './wake.ts';
import { workqueue_softirq_dead } from './workqueue.ts';

/** The replaceable pieces. Correct code only; harness/mutants swaps entries at boot. */
export const hotplugOps = {
  /** Leaves an adopted queue of the dead CPU empty for its next bring-up: no head, tail at the head. */
  reset_dead_queue(deadHead: number): void {
    WRITE_ONCE(deadHead, 0);
    WRITE_ONCE(deadHead + 1, deadHead);
  },
};

/**
 * takeover_tasklets(dead), the CPUHP_SOFTIRQ_DEAD teardown step: in process context on the
 * adopting CPU, with its interrupts off, append the dead CPU's non-empty queues to its own and
 * reset them, and raise both vectors (unconditionally, as the kernel does: from process context
 * that wakes ksoftirqd).
 */
export function takeover_tasklets(dead: number): void {
  const deadBase = layout().cpu(dead);
  // local_irq_disable in the kernel; save/restore because a dying CPU adopts with irqs off.
  const flags = local_irq_save();
  for (const [offset, softirq] of [
    [C_VEC_HEAD, TASKLET_SOFTIRQ],
    [C_HI_HEAD, HI_SOFTIRQ],
  ] as const) {
    const deadHead = deadBase + offset;
    if (READ_ONCE(deadHead + 1) !== deadHead) {
      // This CPU's own queue is CPU-local (shm/door.ts); the dead CPU's words were handed over
      // by the takeover bit this CPU read, and are reset with atomics for its next bring-up.
      const myTail = this_cpu.base + offset + 1;
      local_write(local_read(myTail), READ_ONCE(deadHead));
      local_write(myTail, READ_ONCE(deadHead + 1));
      hotplugOps.reset_dead_queue(deadHead);
    }
    raise_softirq_irqoff(softirq);
  }
  local_irq_restore(flags);
  trace.tasklet_takeover?.(dead);
}

/**
 * Adopts every dead CPU that asked this CPU to. A request bit is cleared only once its queues
 * are adopted: the dying CPU is declared dead by that clear, so a cpuUp right after cannot
 * append to a queue the heir is still resetting.
 */
function adopt_requested(): void {
  for (let word = 0; word < 2; word++) {
    const requests = this_cpu.base + C_TAKEOVER + word;
    let dead = raw_load(requests);
    while (dead !== 0) {
      const bit = 31 - Math.clz32(dead);
      dead &= ~(1 << bit);
      // The kernel's teardown order: CPUHP_TIMERS_PREPARE, then CPUHP_SOFTIRQ_DEAD, whose
      // takeover_tasklets starts with workqueue_softirq_dead.
      timers_dead_cpu(word * 32 + bit);
      workqueue_softirq_dead(word * 32 + bit);
      takeover_tasklets(word * 32 + bit);
      raw_and(requests, ~(1 << bit));
      futex_wake(requests, Number.POSITIVE_INFINITY); // the dying CPU waits on this word
    }
  }
}

let cpuhpQueued = false;

/**
 * While this CPU's task sleeps in a wait (kernel/wait.ts), the kernel would switch to the queued
 * cpuhp kthread: the emulation cannot switch away from the sleeping task, so the sleeping wait
 * runs the teardown step itself. Without this, a task sleeping on a tasklet queued on a dying CPU
 * and the dying CPU waiting for this CPU's takeover would wait for each other forever.
 * Returns whether there was a takeover to do.
 */
export function takeover_while_sleeping(): boolean {
  if ((raw_load(this_cpu.base + C_TAKEOVER) | raw_load(this_cpu.base + C_TAKEOVER + 1)) === 0) return false;
  adopt_requested();
  return true;
}

/**
 * Called from the function-call IPI: a dying CPU asked for a takeover. The takeover itself runs
 * in a cpuhp task on this CPU (process context), as the kernel's teardown callback does.
 */
export function queue_pending_takeovers(): void {
  if (cpuhpQueued) return;
  if ((raw_load(this_cpu.base + C_TAKEOVER) | raw_load(this_cpu.base + C_TAKEOVER + 1)) === 0) return;
  cpuhpQueued = true;
  kthread_run(function* cpuhp(): TaskBody<void> {
    cpuhpQueued = false;
    adopt_requested();
  }, `cpuhp/${this_cpu.id}`);
}

/**
 * This CPU leaves the online mask; its device interrupts and its queues go to another CPU.
 * Returns false (and stays online) if it is the last online CPU.
 */
export function cpu_die(): boolean {
  const me = this_cpu.id;
  const heir = cpumask_any_but(me);
  if (heir < 0) return false;
  local_irq_disable();
  // Function calls already sent here run before the CPU goes (the kernel flushes its call
  // queue when a CPU dies): the commands wait in this CPU's own port, not the heir's.
  take_pending_irq(CALL_FUNCTION_IRQ);
  trace.cpu_hotplug?.(me, false);
  plain_inc(this_cpu.base + C_OFFLINE_COUNT);
  set_cpu_online(me, false);
  // Queues this CPU was asked to adopt come along: it adopts them now and hands all on.
  adopt_requested();
  // Pending softirqs belong to the queues being handed over; the heir raises its own.
  local_write(this_cpu.base + C_SOFTIRQ_PENDING, 0);
  const pending = raw_xchg(this_cpu.base + C_IRQ_PENDING, 0) & ~(1 << TIMER_IRQ);
  for (let irq = 0; irq < 32; irq++) if (pending & (1 << irq)) raise_irq(heir, irq);
  const takeover = layout().cpu(heir) + C_TAKEOVER + (me >> 5);
  raw_or(takeover, 1 << (me & 31));
  raise_irq(heir, CALL_FUNCTION_IRQ);
  // Dead only once the heir has adopted the queues (the kernel's CPUHP_SOFTIRQ_DEAD step). The
  // heir's clear of the request bit ends the pause: no millisecond's sleep per unplug.
  const mine = 1 << (me & 31);
  for (
    let seen = raw_load(takeover);
    (seen & mine) !== 0 && raw_load(G_STOP) === 0;
    seen = raw_load(takeover)
  )
    cpu_pause(1, takeover, seen);
  raw_store(this_cpu.base + C_STATE, CpuState.Dead);
  notify_controller();
  return true;
}

export function cpu_come_online(): void {
  trace.cpu_hotplug?.(this_cpu.id, true);
  set_cpu_online(this_cpu.id, true);
  raw_store(this_cpu.base + C_STATE, CpuState.Online);
  notify_controller();
  local_irq_enable();
}
