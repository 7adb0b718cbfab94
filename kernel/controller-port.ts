/** CPU → controller messages go through here, so that controlled mode can count them. */
import { parentPort } from 'node:worker_threads';
import { count_message } from '../control/cpu.ts';
import type { CpuMessage } from '../shm/protocol.ts';

export function send_to_controller(message: CpuMessage): void {
  count_message();
  parentPort?.postMessage(message);
}
