/**
 * Oops: a callback, handler or task threw. The report goes to the controller (which ends the run
 * or carries on, by policy); the CPU unwinds what it holds so other CPUs do not hang.
 */
import { raw_add } from '../shm/door.ts';
import { G_OOPSES } from '../shm/layout.ts';
import { this_cpu } from './percpu.ts';

export interface OopsReport {
  cpu: number;
  context: string;
  culprit: string;
  message: string;
  stack: string;
}

let oopsSink: (report: OopsReport) => void = (report) => {
  process.stderr.write(
    `Oops: ${report.message} on CPU${report.cpu} in ${report.context} (${report.culprit})\n`,
  );
};

export function setOopsSink(sink: (report: OopsReport) => void): void {
  oopsSink = sink;
}

/** Thrown inside a CPU when the machine is being stopped; unwinds to the CPU loop. */
export class MachineHalt extends Error {
  constructor() {
    super('machine halted');
    this.name = 'MachineHalt';
  }
}

export function oops(error: unknown, context: string, culprit: string): void {
  if (error instanceof MachineHalt) throw error;
  raw_add(G_OOPSES, 1);
  const err = error instanceof Error ? error : new Error(String(error));
  oopsSink({
    cpu: this_cpu.id,
    context,
    culprit,
    message: `${err.name}: ${err.message}`,
    stack: err.stack ?? '',
  });
}
