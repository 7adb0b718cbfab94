/** --controlled and its strategy options, shared by stress, fuzz and replay. */
import { type Command, Option } from 'commander';
import { MAX_DEPTH, STRATEGY_NAMES, type StrategyName } from '../control/block.ts';
import { type ControlledOptions, DEFAULT_DEPTH } from '../control/driver.ts';
import { choice, integer } from './args.ts';
import { UsageError } from './errors.ts';

export interface ControlCliOptions {
  controlled?: boolean;
  strategy?: StrategyName;
  depth?: number;
  quantum?: number;
}

export function addControlOptions(command: Command): Command {
  return command
    .option(
      '--controlled',
      'one CPU at a time, a seeded strategy picking which at every shared access (replayable)',
    )
    .addOption(
      new Option(
        '--strategy <s>',
        `controlled mode's strategy (${STRATEGY_NAMES.join(', ')}; default pct, and for a fuzz campaign pct and random in turn)`,
      ).argParser(choice('--strategy', STRATEGY_NAMES)),
    )
    .addOption(
      new Option(
        '--depth <d>',
        `PCT's bug depth: d-1 priority changes per run (default ${DEFAULT_DEPTH})`,
      ).argParser(integer('--depth', 1, MAX_DEPTH)),
    )
    .addOption(
      new Option('--quantum <q>', 'round robin: decisions per turn (default 1)').argParser(
        integer('--quantum', 1, 1_000_000),
      ),
    );
}

/** The controlled options asked for, or undefined; strategy options without --controlled are an error. */
export function controlRequest(opts: ControlCliOptions, seed: number): ControlledOptions | undefined {
  if (!opts.controlled) {
    const stray = (['strategy', 'depth', 'quantum'] as const).find((key) => opts[key] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --controlled`);
    return undefined;
  }
  return { strategy: opts.strategy ?? 'pct', seed, depth: opts.depth, quantum: opts.quantum };
}
