/** `tasklet-rt run MODULE`: boot a machine with a user's module, run it, print its log and counters. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Machine } from '../runtime/index.ts';
import { EXIT_FAULT, UsageError } from './errors.ts';

export interface RunOptions {
  cpus: number;
  duration: number;
  hz: number;
}

export async function runModule(file: string, options: RunOptions): Promise<number> {
  if (!existsSync(file)) throw new UsageError(`module file not found: '${file}'`);
  const started = performance.now();
  const stamp = (): string => `[${((performance.now() - started) / 1000).toFixed(6).padStart(12)}]`;
  let failed = false;
  const machine = await Machine.boot({
    cpus: options.cpus,
    hz: options.hz,
    modules: [resolve(file)], // a path, even without ./ (a bare name would mean a package)
    onPrintk: (cpu, _level, text) => process.stdout.write(`${stamp()} CPU${cpu}: ${text}\n`),
    onOops: (oops) => {
      failed = true;
      process.stderr.write(
        `${stamp()} Oops: ${oops.message} [CPU${oops.cpu} ${oops.context}: ${oops.culprit}]\n${oops.stack}\n`,
      );
    },
    onReport: (cpu, key, value) =>
      process.stdout.write(`${stamp()} CPU${cpu} report ${key}: ${JSON.stringify(value)}\n`),
  });
  try {
    await new Promise((r) => setTimeout(r, options.duration));
  } finally {
    await machine.shutdown();
  }
  process.stdout.write(`\n${await machine.readProc('softirqs')}`);
  if (machine.faults.length > 0) {
    for (const f of machine.faults) process.stderr.write(`tasklet-rt: ${f.message}\n`);
    return EXIT_FAULT;
  }
  return failed ? EXIT_FAULT : 0;
}
