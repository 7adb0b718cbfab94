/** Lets a module hand a value to the controller (Machine onReport): results, statistics. */
import { send_to_controller } from './controller-port.ts';
import { this_cpu } from './percpu.ts';

export function report(key: string, value: unknown): void {
  send_to_controller({ type: 'report', cpu: this_cpu.id, key, value });
}
