/** CPU → controller messages go through here, so that controlled mode can count them. */
import { parentPort } from 'node:worker_threads';
import { message_posted } from '../shm/door.ts';
import type { CpuMessage } from '../shm/protocol.ts';

export function send_to_controller(message: CpuMessage): void {
  message_posted();
  parentPort?.postMessage(message);
}
