#!/usr/bin/env node
/**
 * The tasklet-rt command. Every bad flag or value ends in one line on stderr and exit code 2;
 * faults inside the machine end in exit code 3.
 */
import { availableParallelism } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { MAX_CPUS } from '../kernel/index.ts';
import { MachineError } from '../machine/index.ts';
import { BadModuleError, machineDefaults } from '../machine/machine.ts';
import {
  choice,
  duration,
  each,
  integer,
  lockupOptions,
  moduleFile,
  moduleParam,
  oopsOption,
} from './args.ts';
import { registerBench } from './bench.ts';
import { cat } from './cat.ts';
import { registerCompare } from './compare.ts';
import { addControlOptions, controlRequest } from './control-options.ts';
import { die, EXIT_FAULT, EXIT_USAGE, UsageError } from './errors.ts';
import { registerFuzz } from './fuzz.ts';
import { runModule } from './run.ts';
import { registerSelftest } from './selftest.ts';
import { installFallbackTermination } from './signals.ts';
import { registerStress } from './stress.ts';
import { traceOptions } from './trace-options.ts';
import { packageVersion } from './version.ts';

const defaultCpus = Math.min(availableParallelism(), MAX_CPUS);

export function buildProgram(): Command {
  const program = new Command('tasklet-rt')
    .description('Linux kernel tasklets on an emulated SMP machine (worker threads over shared memory)')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });

  const cpusOption = () =>
    new Option('--cpus <n>', `emulated CPUs (1-${MAX_CPUS})`)
      .argParser(integer('--cpus', 1, MAX_CPUS))
      .default(defaultCpus);
  const hzOption = () =>
    new Option('--hz <hz>', 'timer ticks per second').argParser(integer('--hz', 10, 10_000)).default(250);

  program
    .command('cat')
    .description(
      'read a /proc file: jitasklet, jitasklethi, jitimer, jitbusy, jitsched, jitqueue, jitschedto, currentime (LDD3 jit), softirqs, interrupts, timer_list, or one a --module provides',
    )
    .argument('<file>', 'e.g. /proc/jitasklet')
    .addOption(cpusOption())
    .addOption(
      new Option('--cpu <n>', 'CPU the reader runs on')
        .argParser(integer('--cpu', 0, MAX_CPUS - 1))
        .default(0),
    )
    .addOption(hzOption())
    .option('--load', "run a busy background task (cc1) on the reader's CPU", false)
    .addOption(
      new Option('--module <file...>', 'extra module files to load')
        .argParser(each(moduleFile('--module')))
        .default([]),
    )
    .action(async (file: string, opts) => {
      process.exitCode = await cat(file, opts);
    });

  program
    .command('run')
    .description('boot a machine with your module (TypeScript, importing from tasklet-rt) and run it')
    .argument('<module>', 'module file, e.g. ./my-module.ts', moduleFile('run'))
    .addOption(cpusOption())
    .addOption(
      new Option('--duration <d>', 'how long to run (10s, 500ms, 2m)')
        .argParser(duration('--duration'))
        .default(5000, '5s'),
    )
    .addOption(hzOption())
    .addOption(oopsOption())
    .addOption(
      new Option(
        '--seed <s>',
        "seed for controlled mode's schedule and the hotplug steps (default: random, printed)",
      ).argParser(integer('--seed', 0, 2 ** 32 - 1)),
    )
    .addOption(
      new Option(
        '--hotplug <period>',
        'take a random CPU down or up every period of machine time (e.g. 200ms)',
      ).argParser(duration('--hotplug', 10)),
    )
    .option(
      '--no-tasks',
      "do not start the module's tasks (by default each starts once, round robin over the CPUs)",
    )
    .addOption(
      new Option(
        '--warn <policy>',
        'after a kernel report (WARNING, BUG): fail (exit 1 at the end) or continue',
      )
        .argParser(choice('--warn', ['fail', 'continue'] as const))
        .default('fail'),
    );
  addControlOptions(program.commands.find((c) => c.name() === 'run')!).action(async (file: string, opts) => {
    const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
    process.exitCode = await runModule(file, {
      ...opts,
      seed,
      hotplug: opts.hotplug ?? 0,
      controlled: controlRequest(opts, seed),
    });
  });

  for (const name of ['cat', 'run']) {
    const command = program.commands.find((c) => c.name() === name)!;
    for (const option of [...lockupOptions(), ...traceOptions()]) command.addOption(option);
    command.addOption(
      new Option('--param <module.name=value...>', 'module parameters, e.g. jit.tdelay=10 jit.delay=25')
        .argParser(each(moduleParam('--param')))
        .default([]),
    );
  }
  registerStress(program);
  registerSelftest(program);
  registerBench(program);
  registerFuzz(program);
  registerCompare(program);
  // Every machine a command boots (also inside the stress harness) gets the lockup detectors' flags.
  program.hook('preAction', (_program, command) => {
    const { watchdogThresh, hungTaskTimeout } = command.opts();
    if (typeof watchdogThresh === 'number') machineDefaults.watchdogThresh = watchdogThresh;
    if (typeof hungTaskTimeout === 'number') machineDefaults.hungTaskTimeout = hungTaskTimeout;
  });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  installFallbackTermination();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
      ) {
        process.exit(0);
      }
      die(error.message.replace(/^error: /, ''), EXIT_USAGE);
    }
    if (error instanceof UsageError || error instanceof BadModuleError) die(error.message, EXIT_USAGE);
    if (error instanceof MachineError) die(error.message, EXIT_FAULT);
    die(
      `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      EXIT_FAULT,
    );
  }
}

await main(process.argv.slice(2));
