/** --ftrace FILE and --trace FILE, shared by every command that boots a machine. */
import { type Command, Option } from 'commander';
import { DEFAULT_TRACE_CAPACITY, type TraceFiles } from '../harness/trace/output.ts';
import { checkWritable } from './output.ts';

export interface TraceCliOptions {
  ftrace?: string;
  trace?: string;
}

export function traceOptions(): Option[] {
  return [
    new Option('--ftrace <file>', 'write every tracepoint as ftrace text (the kernel trace file format)'),
    new Option('--trace <file>', 'write Chrome trace-event JSON (open it in ui.perfetto.dev)'),
  ];
}

export function addTraceOptions(command: Command): Command {
  for (const option of traceOptions()) command.addOption(option);
  return command;
}

/** Checks the files can be written (before anything runs); the ring size when tracing is asked for. */
export function traceRequest(opts: TraceCliOptions): { files: TraceFiles; capacity: number | undefined } {
  checkWritable('--ftrace', opts.ftrace);
  checkWritable('--trace', opts.trace);
  const wanted = opts.ftrace !== undefined || opts.trace !== undefined;
  return {
    files: { ftrace: opts.ftrace, trace: opts.trace },
    capacity: wanted ? DEFAULT_TRACE_CAPACITY : undefined,
  };
}
