/**
 * The function-call IPI handler: hotplug takeovers, then commands from the controller, read
 * synchronously from the command port (a CPU never returns to the event loop).
 */

import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { send_to_controller } from '../kernel/controller-port.ts';
import { queue_pending_takeovers } from '../kernel/hotplug.ts';
import { find_call, find_proc, find_task, SeqFile } from '../kernel/module.ts';
import { oops } from '../kernel/oops.ts';
import { kthread_run, type TaskBody } from '../kernel/sched.ts';
import { kick_bh_pools } from '../kernel/workqueue.ts';
import type { CpuCommand, CpuMessage } from '../shm/protocol.ts';

let port: MessagePort | null = null;

export function setCommandPort(commandPort: MessagePort): void {
  port = commandPort;
}

const send = (message: CpuMessage): void => send_to_controller(message);

const reply = (id: number, value: unknown): void => send({ type: 'reply', id, ok: true, value });
const fail = (id: number, error: unknown): void =>
  send({ type: 'reply', id, ok: false, error: error instanceof Error ? error.message : String(error) });

/** Runs `body` as a task; replies with its return value when it ends (or with the error). */
function runAsTask(id: number, comm: string, culprit: string, body: () => TaskBody): void {
  kthread_run(function* task() {
    try {
      reply(id, yield* body());
    } catch (error) {
      oops(error, 'process context', culprit);
      fail(id, `${culprit} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }, comm);
}

function execute(command: CpuCommand): void {
  switch (command.op) {
    case 'read-proc': {
      const read = find_proc(command.name);
      const m = new SeqFile();
      if (read === undefined) fail(command.id, `/proc/${command.name}: No such file or directory`);
      else
        runAsTask(command.id, 'cat', `cat /proc/${command.name}`, function* cat() {
          yield* read(m);
          return m.text;
        });
      break;
    }
    case 'start-task': {
      const fn = find_task(command.name);
      if (fn === undefined) fail(command.id, `no module defines a task named '${command.name}'`);
      else if (command.waitForExit)
        runAsTask(command.id, command.comm, `task ${command.comm}`, () => fn(command.arg));
      else reply(command.id, kthread_run(() => fn(command.arg), command.comm).pid);
      break;
    }
    case 'call': {
      const fn = find_call(command.name);
      if (fn === undefined) {
        fail(command.id, `no module defines a call named '${command.name}'`);
        break;
      }
      try {
        reply(command.id, fn(command.arg));
      } catch (error) {
        oops(error, 'hardirq (function call)', `call ${command.name}`);
        fail(command.id, error);
      }
    }
  }
}

export function call_function_interrupt(): undefined {
  queue_pending_takeovers();
  kick_bh_pools();
  if (port === null) return;
  for (let msg = receiveMessageOnPort(port); msg !== undefined; msg = receiveMessageOnPort(port)) {
    execute(msg.message as CpuCommand);
  }
}
