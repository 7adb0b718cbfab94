/** preempt_count and the context predicates of include/linux/preempt.h. */
import { plain_write } from '../shm/door.ts';
import { C_PREEMPT_COUNT } from '../shm/layout.ts';
import { this_cpu } from './percpu.ts';

export const PREEMPT_MASK = 0x000000ff;
export const SOFTIRQ_MASK = 0x0000ff00;
export const HARDIRQ_MASK = 0x000f0000;
export const NMI_MASK = 0x00f00000;
export const PREEMPT_OFFSET = 0x1;
export const SOFTIRQ_OFFSET = 0x100;
export const SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;
export const HARDIRQ_OFFSET = 0x10000;

export function preempt_count(): number {
  return this_cpu.preempt;
}

export function preempt_count_add(value: number): void {
  this_cpu.preempt += value;
  plain_write(this_cpu.base + C_PREEMPT_COUNT, this_cpu.preempt);
}

export function preempt_count_sub(value: number): void {
  preempt_count_add(-value);
}

export function preempt_disable(): void {
  preempt_count_add(PREEMPT_OFFSET);
}

export function preempt_enable(): void {
  preempt_count_sub(PREEMPT_OFFSET);
}

export const in_interrupt = (): boolean =>
  (this_cpu.preempt & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)) !== 0;
export const in_softirq = (): boolean => (this_cpu.preempt & SOFTIRQ_MASK) !== 0;
export const in_serving_softirq = (): boolean => (this_cpu.preempt & SOFTIRQ_OFFSET) !== 0;
export const in_hardirq = (): boolean => (this_cpu.preempt & HARDIRQ_MASK) !== 0;
/** The pre-5.11 name of in_hardirq(). */
export const in_irq = in_hardirq;
export const in_nmi = (): boolean => (this_cpu.preempt & NMI_MASK) !== 0;
export const in_task = (): boolean => (this_cpu.preempt & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)) === 0;
export const in_atomic = (): boolean => this_cpu.preempt !== 0;
