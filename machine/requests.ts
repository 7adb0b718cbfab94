/**
 * Requests to a CPU: a command on the CPU's port, then the function-call IPI; the CPU runs it
 * in hard-irq context and replies. Free-running, a request waits in real time; controlled, the
 * machine advances in virtual time until the reply comes (or the machine-time limit passes).
 */
import type { Controller } from '../control/driver.ts';
import { wholeUs } from '../shm/clock.ts';
import type { CpuCommand, CpuCommandBody, CpuMessage } from '../shm/protocol.ts';
import { MachineError } from './options.ts';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

/** What requests need of the machine. */
export interface RequestHost {
  /** Posts the command to the CPU and raises its function-call IPI. */
  deliver(cpu: number, command: CpuCommand): void;
  readonly control: Controller | null;
  now(): number;
  /** False once the machine failed or stops: a controlled request stops advancing. */
  healthy(): boolean;
}

type Reply = Extract<CpuMessage, { type: 'reply' }>;

export class Requests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly host: RequestHost) {}

  send(cpu: number, command: CpuCommandBody, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    if (this.host.control !== null) return this.sendControlled(cpu, id, command, timeoutMs);
    return new Promise((resolveReply, rejectReply) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        rejectReply(
          new MachineError(`CPU${cpu} did not answer '${command.op}' within ${timeoutMs / 1000} s`),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve: resolveReply, reject: rejectReply, timer });
      this.host.deliver(cpu, { ...command, id } as CpuCommand);
    });
  }

  private async sendControlled(
    cpu: number,
    id: number,
    command: CpuCommandBody,
    timeoutMs: number,
  ): Promise<unknown> {
    const reply = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    reply.catch(() => {}); // a fault may reject it before it is returned to the caller
    this.host.deliver(cpu, { ...command, id } as CpuCommand);
    const deadline = wholeUs(this.host.now() + timeoutMs);
    while (this.pending.has(id) && this.host.healthy()) {
      if (wholeUs(this.host.now()) >= deadline) {
        const p = this.pending.get(id)!;
        this.pending.delete(id);
        p.reject(
          new MachineError(
            `CPU${cpu} did not answer '${command.op}' within ${timeoutMs / 1000} s of machine time`,
          ),
        );
        break;
      }
      await this.host.control!.advance((deadline - wholeUs(this.host.now())) / 1000);
    }
    return reply;
  }

  /** A CPU's reply settles its request (a late reply after a timeout is dropped). */
  settle(message: Reply): void {
    const p = this.pending.get(message.id);
    if (p === undefined) return;
    this.pending.delete(message.id);
    clearTimeout(p.timer);
    if (message.ok) p.resolve(message.value);
    else p.reject(new MachineError(message.error));
  }

  /** Every open request fails with `message` (a fault, or the machine shutting down). */
  rejectAll(message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new MachineError(message));
      this.pending.delete(id);
    }
  }
}
