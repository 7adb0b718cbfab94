/**
 * Bring-up and the CPU loop: take interrupts (which run softirqs on exit), run one slice of the
 * next runnable task, or idle until the next tick or a wake-up.
 */

import { set_cpu_online } from '../kernel/cpumask.ts';
import { cpu_come_online, cpu_die } from '../kernel/hotplug.ts';
import { idle_sleep, park_cpu } from '../kernel/idle-skip.ts';
import {
  CALL_FUNCTION_IRQ,
  do_IRQ,
  init_irq_delivery,
  poll_local_timer,
  request_percpu_irq,
  TIMER_IRQ,
} from '../kernel/irq.ts';
import { local_irq_enable } from '../kernel/irqflags.ts';
import { loaded_modules } from '../kernel/module.ts';
import { MachineHalt, oops } from '../kernel/oops.ts';
import { this_cpu } from '../kernel/percpu.ts';
import { pr_err } from '../kernel/printk.ts';
import {
  idle_task,
  init_idle,
  kthread_run,
  pick_next_task,
  run_task,
  set_current,
  type Task,
  TaskState,
} from '../kernel/sched.ts';
import { report_idle_softirq, spawn_ksoftirqd } from '../kernel/softirq.ts';
import { report_stranded_tasklets } from '../kernel/stranded-tasklets.ts';
import { softirq_init } from '../kernel/tasklet.ts';
import { init_tick, tick_handler } from '../kernel/tick.ts';
import { notify_controller } from '../kernel/wake.ts';
import { cpu_sleep, idle_poll, plain_inc, raw_load, raw_store, schedule_point } from '../shm/door.ts';
import {
  C_HEARTBEAT,
  C_IRQ_PENDING,
  C_REQUEST,
  C_STATE,
  C_WAKE,
  CpuRequest,
  CpuState,
  G_STOP,
} from '../shm/layout.ts';
import { call_function_interrupt } from './commands.ts';

let idlePollUs = 0;

export function boot_cpu(cpu: number, pollUs: number): void {
  idlePollUs = pollUs;
  init_idle(cpu);
  init_irq_delivery();
  request_percpu_irq(TIMER_IRQ, tick_handler, 'timer');
  request_percpu_irq(CALL_FUNCTION_IRQ, call_function_interrupt, 'function-call');
  softirq_init();
  spawn_ksoftirqd(cpu);
  for (const m of loaded_modules()) {
    for (const [irq, decl] of Object.entries(m.irqs ?? {})) {
      const rc = request_percpu_irq(Number(irq), decl.handler, decl.name);
      if (rc !== 0) pr_err(`${m.name}: request_irq(${irq}, ${decl.name}) failed: ${rc}`);
    }
    m.cpu_init?.(cpu);
  }
  // The CPU marks itself online as its bring-up ends (the kernel's start_secondary).
  set_cpu_online(cpu, true);
  raw_store(this_cpu.base + C_STATE, CpuState.Online);
  notify_controller();
}

/**
 * module_init of every module, in load order, in an "insmod" task on CPU 0; a module with a
 * probe has it called right after its init (the driver registers, its device is found).
 */
export function start_module_inits(): void {
  kthread_run(function* insmod() {
    for (const m of loaded_modules()) {
      try {
        m.init?.();
      } catch (error) {
        oops(error, 'process context', `module_init of ${m.name}`);
        continue;
      }
      try {
        m.probe?.();
      } catch (error) {
        oops(error, 'process context', `probe of ${m.name}`);
      }
    }
  }, 'insmod');
}

/** remove (for a module with a probe) then module_exit of every module, in reverse load order. */
export function run_module_exits(): void {
  for (const m of [...loaded_modules()].reverse()) {
    try {
      m.remove?.();
    } catch (error) {
      if (!(error instanceof MachineHalt)) pr_err(`${m.name}: remove failed: ${String(error)}`);
    }
    try {
      m.exit?.();
    } catch (error) {
      if (!(error instanceof MachineHalt)) pr_err(`${m.name}: module_exit failed: ${String(error)}`);
    }
  }
}

function take_interrupts(): void {
  poll_local_timer();
  if (raw_load(this_cpu.base + C_IRQ_PENDING) !== 0) do_IRQ();
}

function run_one(task: Task): void {
  try {
    run_task(task);
  } catch (error) {
    if (error instanceof MachineHalt) throw error;
    oops(error, 'process context', `task ${task.comm}/${task.pid}`);
    task.state = TaskState.Dead;
  }
}

/** Idles until something is pending: a short poll (cheap wake-up), then a sleep until the tick. */
function idle(): void {
  // An interrupt taken since the pick woke a task here (ksoftirqd, a waiter): schedule again.
  if (this_cpu.needResched) {
    this_cpu.needResched = false;
    return;
  }
  const wake = this_cpu.base + C_WAKE;
  const seq = raw_load(wake);
  if (idle_poll(wake, seq, idlePollUs)) return;
  if (raw_load(this_cpu.base + C_IRQ_PENDING) !== 0) return;
  report_idle_softirq();
  report_stranded_tasklets();
  notify_controller();
  idle_sleep(wake, seq);
}

function park_offline(): void {
  const wake = this_cpu.base + C_WAKE;
  park_cpu();
  for (;;) {
    const seq = raw_load(wake);
    if (raw_load(G_STOP) !== 0) return;
    if (raw_load(this_cpu.base + C_REQUEST) === CpuRequest.Online) break;
    cpu_sleep(wake, seq, Number.POSITIVE_INFINITY, 50, true);
  }
  raw_store(this_cpu.base + C_REQUEST, CpuRequest.None);
  init_tick();
  cpu_come_online();
}

export function cpu_loop(): void {
  local_irq_enable();
  try {
    while (raw_load(G_STOP) === 0) {
      plain_inc(this_cpu.base + C_HEARTBEAT);
      if (raw_load(this_cpu.base + C_REQUEST) === CpuRequest.Offline) {
        raw_store(this_cpu.base + C_REQUEST, CpuRequest.None);
        if (cpu_die()) park_offline();
        continue;
      }
      // schedule() is a preemption point: in controlled mode, a decision (a task that only
      // yields, polling harness words, must not keep the baton forever).
      schedule_point();
      // schedule() switches with interrupts off: what arrived meanwhile hits the next task.
      const task = pick_next_task();
      set_current(task ?? idle_task());
      take_interrupts();
      if (task === null) idle();
      else if (task.state === TaskState.Running) run_one(task);
    }
  } catch (error) {
    if (!(error instanceof MachineHalt)) throw error;
  }
}
