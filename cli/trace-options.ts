/** --ftrace FILE, --trace FILE and --trace-buffer N, shared by every command that boots a machine. */
import { type Command, Option } from 'commander';
import { DEFAULT_TRACE_CAPACITY, type TraceFiles } from '../harness/trace/output.ts';
import { traceBufferBytes } from '../shm/trace-ring.ts';
import { count } from './args.ts';
import { UsageError } from './errors.ts';
import { checkWritable } from './output.ts';

export interface TraceCliOptions {
  ftrace?: string;
  trace?: string;
  traceBuffer?: number;
}

/** The machine's limit on one ring. */
const MAX_TRACE_CAPACITY = 1 << 22;
/** What all the rings together may take: beyond this, a mistyped size would exhaust memory. */
const MAX_TRACE_BYTES = 4 * 1024 ** 3;

export function traceOptions(): Option[] {
  return [
    new Option('--ftrace <file>', 'write every tracepoint as ftrace text (the kernel trace file format)'),
    new Option('--trace <file>', 'write Chrome trace-event JSON (open it in ui.perfetto.dev)'),
    new Option(
      '--trace-buffer <events>',
      `events each CPU's trace ring keeps, older ones are overwritten (default ${DEFAULT_TRACE_CAPACITY}; 64k, 1M)`,
    ).argParser(count('--trace-buffer', 16, MAX_TRACE_CAPACITY)),
  ];
}

export function addTraceOptions(command: Command): Command {
  for (const option of traceOptions()) command.addOption(option);
  return command;
}

/**
 * Checks the files can be written and the rings fit in memory (before anything runs); the ring
 * size when tracing is asked for.
 */
export function traceRequest(
  opts: TraceCliOptions,
  cpus: number,
): { files: TraceFiles; capacity: number | undefined } {
  checkWritable('--ftrace', opts.ftrace);
  checkWritable('--trace', opts.trace);
  const wanted = opts.ftrace !== undefined || opts.trace !== undefined;
  if (opts.traceBuffer !== undefined && !wanted)
    throw new UsageError('--trace-buffer needs --ftrace or --trace');
  const capacity = opts.traceBuffer ?? DEFAULT_TRACE_CAPACITY;
  const bytes = traceBufferBytes({ nrCpus: cpus, capacity });
  if (bytes > MAX_TRACE_BYTES)
    throw new UsageError(
      `--trace-buffer ${capacity} on ${cpus} CPUs needs ${(bytes / 1024 ** 3).toFixed(1)} GiB of trace rings; at most 4 GiB`,
    );
  return { files: { ftrace: opts.ftrace, trace: opts.trace }, capacity: wanted ? capacity : undefined };
}
