/** `tasklet-rt cat /proc/FILE`: boot a machine, read one proc file on a CPU, print it. */

import { writeTraceFiles } from '../harness/trace/output.ts';
import { describeTrace } from '../harness/trace/summary.ts';
import { Machine } from '../machine/index.ts';
import { paramRecord } from './args.ts';
import { EXIT_FAULT, UsageError } from './errors.ts';
import { builtinModule } from './paths.ts';
import { type TraceCliOptions, traceRequest } from './trace-options.ts';

export interface CatOptions extends TraceCliOptions {
  cpus: number;
  cpu: number;
  hz: number;
  load: boolean;
  module: string[];
  param?: [string, number][];
}

const BUILTIN = new Set(['softirqs', 'interrupts', 'timer_list']);

export async function cat(path: string, options: CatOptions): Promise<number> {
  const name = path.replace(/^\/proc\//, '');
  if (!/^[\w.-]+$/.test(name)) throw new UsageError(`not a proc file: '${path}'`);
  if (options.cpu >= options.cpus)
    throw new UsageError(`--cpu ${options.cpu} does not exist on a ${options.cpus}-CPU machine`);
  const tracing = traceRequest(options, options.cpus);
  const machine = await Machine.boot({
    cpus: options.cpus,
    hz: options.hz,
    params: paramRecord(options.param),
    trace: tracing.capacity === undefined ? undefined : { capacity: tracing.capacity },
    modules: [builtinModule('jit'), builtinModule('load'), ...options.module],
  });
  try {
    if (!machine.hasProc(name)) {
      throw new UsageError(`${path}: No such file or directory`);
    }
    if (!BUILTIN.has(name)) {
      // First execution of freshly loaded code is slow enough to cross a tick; warm it once.
      await machine.readProc(name, options.cpu).catch(() => undefined);
      if (options.load) {
        await machine.startTask(options.cpu, 'cc1');
        await new Promise((r) => setTimeout(r, 50));
      }
    } else {
      await new Promise((r) => setTimeout(r, 50)); // let the CPUs count a few ticks
    }
    const text = await machine.readProc(name, options.cpu);
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return machine.oopses.length > 0 || machine.faults.length > 0 ? EXIT_FAULT : 0;
  } finally {
    await machine.shutdown();
    const trace = writeTraceFiles(machine, tracing.files);
    // The proc file is the output; what the trace holds goes to stderr, as a note.
    if (trace !== null) process.stderr.write(`${describeTrace(trace).join('\n')}\n`);
  }
}
