import { this_cpu } from './percpu.ts';

/** The CPU this code runs on (-1 on the controller thread). */
export function smp_processor_id(): number {
  return this_cpu.id;
}
