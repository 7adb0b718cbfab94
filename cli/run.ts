/**
 * `tasklet-rt run MODULE`: boot a machine with a user's module, start its tasks, run it (free or
 * controlled, with CPU hotplug if asked), print its log and a report. It ends early on the first
 * oops (unless --oops=continue), a fault (a dead worker, a soft lockup, a hung task) or a signal;
 * the report says why and counts what went wrong. A kernel report (WARNING, BUG) fails the run
 * (exit 1) unless --warn=continue.
 */
import type { ControlledOptions } from '../control/driver.ts';
import { checkStimulus, StimulusError } from '../harness/module/stimulus.ts';
import { Prng } from '../harness/prng.ts';

import { writeTraceFiles } from '../harness/trace/output.ts';
import { describeTrace } from '../harness/trace/summary.ts';
import { Machine, type OopsReport } from '../machine/index.ts';
import type { OopsPolicy } from './args.ts';
import { paramRecord } from './args.ts';
import { EXIT_FAULT, EXIT_OK, EXIT_VIOLATION, UsageError } from './errors.ts';
import { onTermination } from './signals.ts';
import { type TraceCliOptions, traceRequest } from './trace-options.ts';

export interface RunOptions extends TraceCliOptions {
  cpus: number;
  duration: number;
  hz: number;
  oops: OopsPolicy;
  watchdogThresh: number;
  hungTaskTimeout: number;
  seed: number;
  /** Controlled mode, seeded by `seed`; undefined runs free. */
  controlled?: ControlledOptions;
  /** Milliseconds between CPU hotplug steps; 0 = off. */
  hotplug: number;
  /** Start every task the module declares (round robin over the CPUs). */
  tasks: boolean;
  warn: WarnPolicy;
  param?: [string, number][];
}

export type WarnPolicy = 'fail' | 'continue';

/** The first line of a kernel report: a WARN's cut-here, lockdep's WARNING, a BUG (KASAN's, KCSAN's after a rule). */
const KERNEL_REPORT = /^(------------\[ cut here \]------------|\n?=+\n(WARNING|BUG): |BUG: )/;

/** A signal leaves this long for the CPUs to stop before their workers are terminated. */
const SIGNAL_GRACE_MS = 500;

export async function runModule(file: string, options: RunOptions): Promise<number> {
  const started = performance.now();
  const seconds = (): string => ((performance.now() - started) / 1000).toFixed(6);
  const stamp = (): string => `[${seconds().padStart(12)}]`;
  let oopses = 0;
  let reports = 0;
  let hotplugs = 0;
  let hotplugFailure: string | null = null;
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
      controlled: options.controlled,
      // A stimulus declaration is stress's and fuzz's, but a bad one is refused here too.
      beforeStart: (metadata) => {
        try {
          checkStimulus(metadata, false);
        } catch (error) {
          if (error instanceof StimulusError) throw new UsageError(`${file}: ${error.message}`);
          throw error;
        }
      },
      onPrintk: (cpu, _level, text) => {
        if (KERNEL_REPORT.test(text)) reports++;
        process.stdout.write(`${stamp()} CPU${cpu}: ${text}\n`);
      },
      onOops: (report) => {
        if (options.oops === 'panic' && oopses > 0) return; // after a panic nothing more is reported
        oopses++;
        process.stderr.write(`${stamp()} ${describeOops(report, oopses)}\n`);
        // The kernel panics on an oops in interrupt context ("in interrupt"); in process context
        // it would kill the task. Here --oops=panic stops the machine either way.
        const where = report.context === 'process context' ? '' : ' in interrupt';
        if (options.oops === 'panic')
          stop(`Kernel panic - not syncing: Fatal exception${where} (an oops; --oops=continue carries on)`);
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
    if (options.tasks)
      for (const [i, name] of machine.metadata.tasks.entries())
        await machine.startTask(i % options.cpus, name);
    const rng = new Prng(options.seed);
    const deadline = machine.now() + options.duration;
    let nextHotplug = options.hotplug > 0 ? machine.now() + options.hotplug : Number.POSITIVE_INFINITY;
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    // Free-running, a timer that a stop clears (a pending one would keep the process alive).
    const pause = (ms: number): Promise<void> =>
      machine.control !== null
        ? machine.sleep(ms)
        : new Promise((resolve) => {
            const timer = setTimeout(resolve, ms);
            void stopped.then(() => {
              clearTimeout(timer);
              resolve();
            });
          });
    // Machine time: virtual in controlled mode, where only the controller's sleeps move it.
    while (!done && termination.exitCode() === undefined && machine.now() < deadline) {
      const until = Math.min(deadline, nextHotplug);
      await Promise.race([pause(Math.max(0, until - machine.now())), stopped]);
      if (!done && machine.now() >= nextHotplug) {
        try {
          if (await hotplugStep(machine, rng)) hotplugs++;
        } catch (error) {
          // A CPU that never goes (its heir livelocked, say) is a fault of the run, not a crash.
          hotplugFailure = error instanceof Error ? error.message : String(error);
          process.stderr.write(`${stamp()} hotplug: ${hotplugFailure}\n`);
          stop(`hotplug: ${hotplugFailure}`);
        }
        nextHotplug += options.hotplug;
      }
    }
    await machine.shutdown(termination.exitCode() === undefined ? undefined : SIGNAL_GRACE_MS);
    const trace = writeTraceFiles(machine, tracing.files);
    process.stdout.write(`\n${await machine.readProc('softirqs')}\n`);
    if (trace !== null) process.stdout.write(`${describeTrace(trace).join('\n')}\n`);
    const faults = machine.faults.length + (hotplugFailure === null ? 0 : 1);
    process.stdout.write(
      `run: ${seconds()} s, ${oopses} ${oopses === 1 ? 'oops' : 'oopses'}, ${faults} ${faults === 1 ? 'fault' : 'faults'}, ${reports} kernel ${reports === 1 ? 'report' : 'reports'} (WARNING/BUG), ${hotplugs} hotplug steps, seed ${options.seed}${options.controlled ? `, controlled (${options.controlled.strategy})` : ''}; ${stopReason ?? 'ran for the whole duration'}\n`,
    );
    if (termination.exitCode() !== undefined) return termination.exitCode()!;
    if (faults > 0 || oopses > 0) return EXIT_FAULT;
    return reports > 0 && options.warn === 'fail' ? EXIT_VIOLATION : EXIT_OK;
  } finally {
    termination.dispose();
  }
}

/** Takes a random CPU down (if another stays online) or brings an offline one back. */
async function hotplugStep(machine: Machine, rng: Prng): Promise<boolean> {
  const cpu = Math.floor(rng.next() * machine.nrCpus);
  const online = machine.onlineCpus();
  if (!online.includes(cpu)) await machine.cpuUp(cpu);
  else if (online.length > 1) await machine.cpuDown(cpu);
  else return false;
  return true;
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
