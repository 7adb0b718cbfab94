/** Lets a module hand a value to the controller (Machine onReport): results, statistics. */
import { parentPort } from 'node:worker_threads';
import { this_cpu } from './percpu.ts';

export function report(key: string, value: unknown): void {
  parentPort?.postMessage({ type: 'report', cpu: this_cpu.id, key, value });
}
