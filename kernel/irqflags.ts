/**
 * The local interrupt flag (local_irq_save and friends). Re-enabling interrupts delivers the
 * ones that arrived meanwhile, as on hardware. Delivery is late-bound to keep this module a leaf.
 */
import { plain_read, plain_write } from '../shm/door.ts';
import { C_IRQ_PENDING, C_IRQS_OFF } from '../shm/layout.ts';
import { this_cpu } from './percpu.ts';

let deliverPendingIrqs: () => void = () => {};

export function setIrqDelivery(deliver: () => void): void {
  deliverPendingIrqs = deliver;
}

/** Sets the flag without delivering anything (hardware entry/exit of an interrupt). */
export function setIrqsOff(off: boolean): void {
  this_cpu.irqsOff = off;
  plain_write(this_cpu.base + C_IRQS_OFF, off ? 1 : 0);
}

export function local_irq_disable(): void {
  setIrqsOff(true);
}

export function local_irq_enable(): void {
  setIrqsOff(false);
  // A plain read, as at an interrupt point (kernel/irq.ts): a raise it misses is taken at the
  // next point or loop pass; do_IRQ's atomic exchange is what synchronizes with the raiser.
  if (plain_read(this_cpu.base + C_IRQ_PENDING) !== 0) deliverPendingIrqs();
}

/** Returns the flags to hand to local_irq_restore: non-zero when interrupts were already off. */
export function local_irq_save(): number {
  const flags = this_cpu.irqsOff ? 1 : 0;
  setIrqsOff(true);
  return flags;
}

export function local_irq_restore(flags: number): void {
  if (flags === 0) local_irq_enable();
  else setIrqsOff(true);
}

export function irqs_disabled(): boolean {
  return this_cpu.irqsOff;
}
