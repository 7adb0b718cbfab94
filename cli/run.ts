/**
 * `tasklet-rt run MODULE`: boot a machine with a user's module, run it, print its log and a report.
 * It ends early on the first oops (unless --oops=continue), a fault (a dead worker, a soft lockup,
 * a hung task) or a signal; the report says why and counts what went wrong.
 */

import { writeTraceFiles } from '../harness/trace/output.ts';
import { describeTrace } from '../harness/trace/summary.ts';
import { Machine, type OopsReport } from '../machine/index.ts';
import type { OopsPolicy } from './args.ts';
import { paramRecord } from './args.ts';
import { EXIT_FAULT, EXIT_OK } from './errors.ts';
import { onTermination } from './signals.ts';
import { type TraceCliOptions, traceRequest } from './trace-options.ts';

export interface RunOptions extends TraceCliOptions {
  cpus: number;
  duration: number;
  hz: number;
  oops: OopsPolicy;
  watchdogThresh: number;
  hungTaskTimeout: number;
  param?: [string, number][];
}

/** A signal leaves this long for the CPUs to stop before their workers are terminated. */
const SIGNAL_GRACE_MS = 500;

export async function runModule(file: string, options: RunOptions): Promise<number> {
  const started = performance.now();
  const seconds = (): string => ((performance.now() - started) / 1000).toFixed(6);
  const stamp = (): string => `[${seconds().padStart(12)}]`;
  let oopses = 0;
  let stopReason: string | null = null;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((r) => {
    wake = r;
  });
  const stop = (reason: string): void => {
    stopReason ??= reason;
    wake();
  };
  let booted = false;
  const termination = onTermination();
  termination.signalled.then(() => {
    // A closed stdout during boot: the run stops as soon as it has booted.
    if (booted || termination.signal() === undefined) return stop(termination.reason());
    // Nothing to report yet, and boot is not interruptible: leave now (the workers end with us).
    process.stderr.write(`tasklet-rt: interrupted by ${termination.signal()} during boot\n`);
    process.exit(termination.exitCode());
  });
  const tracing = traceRequest(options, options.cpus);
  try {
    const machine = await Machine.boot({
      cpus: options.cpus,
      hz: options.hz,
      trace: tracing.capacity === undefined ? undefined : { capacity: tracing.capacity },
      modules: [file],
      params: paramRecord(options.param),
      watchdogThresh: options.watchdogThresh,
      hungTaskTimeout: options.hungTaskTimeout,
      onPrintk: (cpu, _level, text) => process.stdout.write(`${stamp()} CPU${cpu}: ${text}\n`),
      onOops: (report) => {
        if (options.oops === 'panic' && oopses > 0) return; // after a panic nothing more is reported
        oopses++;
        process.stderr.write(`${stamp()} ${describeOops(report, oopses)}\n`);
        if (options.oops === 'panic')
          stop('Kernel panic - not syncing: Fatal exception (an oops; --oops=continue carries on)');
      },
      onFault: (fault) => {
        if (!booted) return; // a boot failure: Machine.boot rejects with it, and main prints it
        process.stderr.write(`${stamp()} ${fault.message}\n`);
        stop(fault.message.split('\n')[0]);
      },
      onReport: (cpu, key, value) =>
        process.stdout.write(`${stamp()} CPU${cpu} report ${key}: ${JSON.stringify(value)}\n`),
    });
    booted = true;
    if (termination.exitCode() === undefined) {
      const timer = setTimeout(wake, options.duration);
      await stopped;
      clearTimeout(timer);
    }
    await machine.shutdown(termination.exitCode() === undefined ? undefined : SIGNAL_GRACE_MS);
    const trace = writeTraceFiles(machine, tracing.files);
    process.stdout.write(`\n${await machine.readProc('softirqs')}\n`);
    if (trace !== null) process.stdout.write(`${describeTrace(trace).join('\n')}\n`);
    const faults = machine.faults.length;
    process.stdout.write(
      `run: ${seconds()} s, ${oopses} ${oopses === 1 ? 'oops' : 'oopses'}, ${faults} ${faults === 1 ? 'fault' : 'faults'}, ${machine.warnings()} warnings; ${stopReason ?? 'ran for the whole duration'}\n`,
    );
    return termination.exitCode() ?? (faults > 0 || oopses > 0 ? EXIT_FAULT : EXIT_OK);
  } finally {
    termination.dispose();
  }
}

/** The kernel's Oops header, then what tasklet-rt knows: CPU, context, culprit and the stack. */
export function describeOops(report: OopsReport, n: number): string {
  return [
    `Oops: ${report.message} [#${n}]`,
    `CPU: ${report.cpu} context: ${report.context} culprit: ${report.culprit}`,
    'Call Trace:',
    ...report.stack
      .split('\n')
      .slice(1)
      .map((line) => `  ${line.trim()}`),
  ].join('\n');
}
