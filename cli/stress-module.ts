/**
 * `tasklet-rt stress MODULE`: the module under its declared stimulus with every generic oracle
 * on. Exit 0 clean, 1 a finding (an oracle, a kernel report, an invariant), 2 bad usage or a
 * bad stimulus declaration, 3 a fault (an oops, a hang), 130/143 signal.
 */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { moduleJson, moduleReport } from '../harness/module/report.ts';
import { StimulusError } from '../harness/module/stimulus.ts';
import { type ModuleStressResult, stressModule } from '../harness/module/stress.ts';
import {
  huntModuleStress,
  type ModuleStressHunt,
  moduleHuntJson,
  moduleHuntReport,
} from '../harness/module/stress-hunt.ts';
import { WINDOW_TRACE_CAPACITY } from '../harness/stress/options.ts';
import { describeTrace } from '../harness/trace/summary.ts';
import { paramRecord } from './args.ts';
import { controlRequest } from './control-options.ts';
import { EXIT_FAULT, EXIT_OK, EXIT_VIOLATION, UsageError } from './errors.ts';
import { checkWritable, writeOutput } from './output.ts';
import { onTermination } from './signals.ts';
import type { StressCliOptions } from './stress.ts';
import { traceRequest } from './trace-options.ts';

/** Options of the built-in workload that mean nothing for a module. */
const BUILTIN_ONLY = ['tasklets', 'mix', 'inject', 'junit', 'oracles', 'listMutants'] as const;
const FLAG: Record<(typeof BUILTIN_ONLY)[number], string> = {
  tasklets: '--tasklets',
  mix: '--mix',
  inject: '--inject',
  junit: '--junit',
  oracles: '--no-oracles',
  listMutants: '--list-mutants',
};

export function exitCodeOfModule(result: ModuleStressResult): number {
  if (result.status === 'violation') return EXIT_VIOLATION;
  if (result.status === 'fault') return EXIT_FAULT;
  return EXIT_OK;
}

export async function stressModuleCommand(
  path: string,
  opts: StressCliOptions,
  cmd: Command,
): Promise<number> {
  const file = relative(process.cwd(), path) || path;
  for (const key of BUILTIN_ONLY)
    if (cmd.getOptionValueSource(key) === 'cli')
      throw new UsageError(`${FLAG[key]} is for the built-in workload, not for a module (stress ${file})`);
  checkWritable('--json', opts.json);
  const tracing = traceRequest(opts, opts.cpus);
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const controlled = controlRequest(opts, seed);
  if (opts.steps !== undefined && controlled === undefined)
    throw new UsageError('--steps needs --controlled');
  const log = (line: string): void => {
    if (!opts.quiet) process.stdout.write(`${line}\n`);
  };
  const termination = onTermination();
  let result: ModuleStressResult;
  try {
    result = await stressModule(
      {
        file: path,
        display: file,
        cpus: opts.cpus,
        durationMs: opts.duration,
        seed,
        hotplugMs: opts.hotplug === false ? 0 : (opts.hotplug ?? 0),
        warn: opts.warn ?? 'fail',
        params: paramRecord(opts.param),
        controlled,
        stepLimit: opts.steps,
        traceCapacity: tracing.capacity ?? WINDOW_TRACE_CAPACITY,
        traceFiles: tracing.files,
        oopsContinue: opts.oops === 'continue',
      },
      {
        interrupted: termination.signalled,
        // Only once the declaration passed: a bad one leaves nothing on stdout but its error.
        onStarted: () =>
          log(
            `tasklet-rt stress ${file}: ${opts.cpus} CPUs, ${opts.duration / 1000}s${opts.steps ? ` or ${opts.steps} decisions` : ''}, seed ${seed}${controlled ? `, controlled (${controlled.strategy})` : ''}`,
          ),
        onSample: (s) =>
          log(
            `[${(s.elapsedMs / 1000).toFixed(0).padStart(4)}s]  Runs: ${s.runs}  Irqs: ${s.irqs}  Findings: ${s.violations}`,
          ),
      },
    );
  } catch (error) {
    termination.dispose();
    if (error instanceof StimulusError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  process.stdout.write(`\n${moduleReport(result)}\n`);
  if (result.trace !== null) process.stdout.write(`${describeTrace(result.trace).join('\n')}\n`);
  const hunt =
    result.status === 'violation' &&
    controlled === undefined &&
    opts.hunt !== false &&
    termination.exitCode() === undefined
      ? await huntExactRepro(result, opts.hunt, opts.quiet, () => termination.exitCode() !== undefined)
      : null;
  termination.dispose();
  writeOutput(opts.json, moduleJson(result, hunt === null ? null : moduleHuntJson(hunt)));
  return termination.exitCode() ?? exitCodeOfModule(result);
}

/** Machine time of one hunt try: a module's stimulus takes longer to reach a race than the built-in workload. */
const HUNT_TRY_MS = 10_000;

/** A free-running finding's search for the controlled run that gives it every time, told as it goes. */
async function huntExactRepro(
  result: ModuleStressResult,
  budgetMs: number,
  quiet: boolean,
  interrupted: () => boolean,
): Promise<ModuleStressHunt> {
  process.stdout.write(
    `\nhunting for an exact repro of the ${result.violations[0].oracle} finding (up to ${budgetMs / 1000}s of controlled runs)\n`,
  );
  let tries = 0;
  const hunt = await huntModuleStress(result, {
    budgetMs,
    tryMs: HUNT_TRY_MS,
    interrupted,
    onRun: (what, plan) => {
      if (what === 'try') tries++;
      if (!quiet && what === 'try')
        process.stdout.write(`  try ${tries}: ${plan.controlled?.strategy} seed ${plan.seed}\n`);
    },
  });
  process.stdout.write(`${moduleHuntReport(hunt)}\n`);
  return hunt;
}
