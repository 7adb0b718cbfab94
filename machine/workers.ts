/**
 * The CPU workers: one worker_thread per CPU, its command port, and what its life tells the
 * controller (messages, a crash, an unexpected exit). Boot resolves once every CPU is ready.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { CpuCommand, CpuMessage, CpuWorkerData } from '../shm/protocol.ts';
import { BadModuleError, MachineError, type MachineFault } from './options.ts';
import { cpuWorkerEntry } from './worker-entry.ts';

type Ready = Extract<CpuMessage, { type: 'ready' }>;

export interface WorkerEvents {
  /** Every message but `ready`, which boot consumes. */
  message(message: CpuMessage): void;
  /** Counts every message, `ready` included (controlled mode waits until it has them all). */
  received(): void;
  fault(fault: MachineFault): void;
}

export type WorkerDataOf = (cpu: number, commandPort: MessagePort) => CpuWorkerData;

export interface WorkerLimits {
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

export class CpuWorkers {
  /** CPUs whose worker ended on purpose (stopped, or terminated after a lockup). */
  readonly stopped = new Set<number>();
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private stopping = false;

  constructor(
    private readonly nrCpus: number,
    private readonly events: WorkerEvents,
  ) {}

  /** Starts every CPU; resolves with CPU0's ready report, rejects if any CPU fails to boot. */
  start(dataOf: WorkerDataOf, limits: WorkerLimits): Promise<Ready> {
    return new Promise((resolveBoot, rejectBoot) => {
      let ready = 0;
      let report: Ready | null = null;
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        const channel = new MessageChannel();
        const worker = new Worker(cpuWorkerEntry(), {
          workerData: dataOf(cpu, channel.port2),
          transferList: [channel.port2],
          resourceLimits: limits.resourceLimits,
          stderr: false,
        });
        this.workers.push(worker);
        this.ports.push(channel.port1);
        worker.on('message', (message: CpuMessage) => {
          this.events.received();
          if (message.type !== 'ready') return this.events.message(message);
          if (cpu === 0) report = message;
          if (++ready === this.nrCpus) resolveBoot(report!);
        });
        worker.on('error', (error) => {
          const fault = { cpu, message: `CPU${cpu} worker crashed: ${error.message}` };
          if (ready < this.nrCpus) {
            // cpu/module-load.ts names a module that cannot be loaded: bad input, not a crash.
            rejectBoot(
              error.name === 'BadModuleError'
                ? new BadModuleError(error.message)
                : new MachineError(`boot failed: ${fault.message}`),
            );
          }
          this.events.fault(fault);
        });
        worker.on('exit', (code) => {
          if (!this.stopped.has(cpu) && !this.stopping) {
            const fault = { cpu, message: `CPU${cpu} worker exited unexpectedly (code ${code})` };
            if (ready < this.nrCpus) rejectBoot(new MachineError(`boot failed: ${fault.message}`));
            this.events.fault(fault);
          }
          this.stopped.add(cpu);
        });
      }
    });
  }

  post(cpu: number, command: CpuCommand): void {
    this.ports[cpu].postMessage(command);
  }

  /** A CPU that will never return to its loop (a soft lockup): its worker goes. */
  terminate(cpu: number): void {
    this.stopped.add(cpu);
    void this.workers[cpu].terminate();
  }

  /** From here on a worker's exit is expected, not a fault. */
  beginStop(): void {
    this.stopping = true;
  }

  /**
   * Waits until every worker has exited, at most `graceMs`; then terminates the rest and
   * returns the CPUs that did not stop by themselves.
   */
  async waitExit(graceMs: number): Promise<number[]> {
    const exited = new Set<number>();
    const exits = this.workers.map(
      (worker, cpu) =>
        new Promise<void>((r) => {
          const done = (): void => {
            exited.add(cpu);
            r();
          };
          if (worker.threadId === -1) done();
          else worker.once('exit', done);
        }),
    );
    const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs).unref());
    const late: number[] = [];
    if ((await Promise.race([Promise.all(exits), grace])) === 'late') {
      for (let cpu = 0; cpu < this.workers.length; cpu++) if (!exited.has(cpu)) late.push(cpu);
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
    for (const port of this.ports) port.close();
    return late;
  }
}
