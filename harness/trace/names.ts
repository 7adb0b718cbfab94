/** Names for trace output: tasks by pid, tasklets and functions by id, irqs and softirqs. */

import { softirq_to_name } from '../../kernel/softirq.ts';
import { initial_jiffies } from '../../kernel/tick.ts';
import type { Machine } from '../../machine/machine.ts';
import { G_HZ, T_FUNC, TM_FUNC, WK_FUNC } from '../../shm/layout.ts';

const BUILTIN_IRQS: Record<number, string> = { 0: 'timer', 1: 'function-call' };

export class TraceNames {
  /** `extra`: names for run-time tasklets (by id) that only their allocating CPU knew. */
  constructor(
    private readonly machine: Machine,
    private readonly extra: ReadonlyMap<number, string> = new Map(),
  ) {}

  /** ftrace's comm: `<idle>` for the idle task and `<...>` for an unknown one, as the kernel prints them. */
  comm(pid: number): string {
    if (pid === 0) return '<idle>';
    return this.machine.comm(pid) ?? '<...>';
  }

  func(funcId: number): string {
    return this.machine.metadata.callbacks[funcId] ?? `callback#${funcId}`;
  }

  /** A tasklet's symbol: its declared name, or its function plus its table slot. */
  tasklet(id: number, funcId = this.funcOf(id)): string {
    return this.machine.metadata.staticTasklets[id] ?? this.extra.get(id) ?? `${this.func(funcId)}#${id}`;
  }

  funcOf(id: number): number {
    const { mem, layout } = this.machine.memory;
    return Atomics.load(mem, layout.tasklet(id) + T_FUNC);
  }

  /** A timer_list's symbol: its function plus its table slot (the kernel prints a hashed %p). */
  timer(id: number): string {
    return `${this.func(this.timerFunc(id))}#${id}`;
  }

  timerFunc(id: number): number {
    const { mem, layout } = this.machine.memory;
    return Atomics.load(mem, layout.timer(id) + TM_FUNC);
  }

  /** A work_struct's symbol: its function plus its table slot. */
  work(id: number): string {
    return `${this.func(this.workFunc(id))}#${id}`;
  }

  workFunc(id: number): number {
    const { mem, layout } = this.machine.memory;
    return Atomics.load(mem, layout.work(id) + WK_FUNC);
  }

  /** jiffies at machine time `ms` (jiffies follows the shared clock), low 32 bits. */
  jiffiesAt(ms: number): number {
    const hz = Atomics.load(this.machine.memory.mem, G_HZ);
    return (initial_jiffies(hz) + Math.floor((ms * hz) / 1000)) >>> 0;
  }

  irq(irq: number): string {
    return this.machine.metadata.irqs[irq] ?? BUILTIN_IRQS[irq] ?? `irq${irq}`;
  }

  softirq(vec: number): string {
    return softirq_to_name[vec] ?? String(vec);
  }
}
