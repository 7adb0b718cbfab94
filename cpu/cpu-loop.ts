/**
 * Bring-up and the CPU loop: take interrupts (which run softirqs on exit), run one slice of the
 * next runnable task, or idle until the next tick or a wake-up.
 */

import { control_block, controlled } from '../control/cpu.ts';
import { cpu_come_online, cpu_die } from '../kernel/hotplug.ts';
import {
  CALL_FUNCTION_IRQ,
  do_IRQ,
  init_irq_delivery,
  poll_local_timer,
  request_irq,
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
import { HI_SOFTIRQ, open_softirq, spawn_ksoftirqd, TASKLET_SOFTIRQ } from '../kernel/softirq.ts';
import { tasklet_action, tasklet_hi_action } from '../kernel/tasklet.ts';
import { init_tick, msUntilNextTick, next_tick_ms, tick_handler } from '../kernel/tick.ts';
import { schedule_point } from '../shm/door.ts';
import { C_HEARTBEAT, C_IRQ_PENDING, C_REQUEST, C_WAKE, CpuRequest, G_STOP } from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';
import { call_function_interrupt } from './commands.ts';

let idlePollUs = 0;

export function boot_cpu(cpu: number, pollUs: number): void {
  idlePollUs = pollUs;
  init_idle(cpu);
  init_irq_delivery();
  request_irq(TIMER_IRQ, tick_handler, 'timer');
  request_irq(CALL_FUNCTION_IRQ, call_function_interrupt, 'function-call');
  open_softirq(TASKLET_SOFTIRQ, tasklet_action);
  open_softirq(HI_SOFTIRQ, tasklet_hi_action);
  spawn_ksoftirqd(cpu);
  for (const m of loaded_modules()) {
    for (const [irq, decl] of Object.entries(m.irqs ?? {})) {
      const rc = request_irq(Number(irq), decl.handler, decl.name);
      if (rc !== 0) pr_err(`${m.name}: request_irq(${irq}, ${decl.name}) failed: ${rc}`);
    }
    m.cpu_init?.(cpu);
  }
}

/** module_init of every module, in load order, in an "insmod" task on CPU 0. */
export function start_module_inits(): void {
  kthread_run(function* insmod() {
    for (const m of loaded_modules()) {
      try {
        m.init?.();
      } catch (error) {
        oops(error, 'process context', `module_init of ${m.name}`);
      }
    }
  }, 'insmod');
}

export function run_module_exits(): void {
  for (const m of [...loaded_modules()].reverse()) {
    try {
      m.exit?.();
    } catch (error) {
      if (!(error instanceof MachineHalt)) pr_err(`${m.name}: module_exit failed: ${String(error)}`);
    }
  }
}

function take_interrupts(): void {
  poll_local_timer();
  if (Atomics.load(shm.mem, this_cpu.base + C_IRQ_PENDING) !== 0) do_IRQ();
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
  const mem = shm.mem;
  const wake = this_cpu.base + C_WAKE;
  const seq = Atomics.load(mem, wake);
  if (controlled()) {
    if (Atomics.load(mem, this_cpu.base + C_IRQ_PENDING) === 0) control_block(seq, next_tick_ms());
    return;
  }
  if (idlePollUs > 0) {
    const until = performance.now() + idlePollUs / 1000;
    while (performance.now() < until) {
      if (Atomics.load(mem, wake) !== seq) return;
    }
  }
  if (Atomics.load(mem, this_cpu.base + C_IRQ_PENDING) !== 0) return;
  Atomics.wait(mem, wake, seq, msUntilNextTick());
}

function park_offline(): void {
  const mem = shm.mem;
  const wake = this_cpu.base + C_WAKE;
  for (;;) {
    const seq = Atomics.load(mem, wake);
    if (Atomics.load(mem, G_STOP) !== 0) return;
    if (Atomics.load(mem, this_cpu.base + C_REQUEST) === CpuRequest.Online) break;
    if (controlled()) control_block(seq, Number.POSITIVE_INFINITY, true);
    else Atomics.wait(mem, wake, seq, 50);
  }
  Atomics.store(mem, this_cpu.base + C_REQUEST, CpuRequest.None);
  init_tick();
  cpu_come_online();
}

export function cpu_loop(): void {
  const mem = shm.mem;
  local_irq_enable();
  try {
    while (Atomics.load(mem, G_STOP) === 0) {
      mem[this_cpu.base + C_HEARTBEAT]++;
      if (Atomics.load(mem, this_cpu.base + C_REQUEST) === CpuRequest.Offline) {
        Atomics.store(mem, this_cpu.base + C_REQUEST, CpuRequest.None);
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
