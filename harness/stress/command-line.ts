/** The `tasklet-rt stress` command line that asks for a given run (what a repro hands back). */
import { DEFAULT_MIX, OPS } from './mix.ts';
import type { StressOptions } from './options.ts';

export function stressCommandLine(options: StressOptions): string {
  const args = ['tasklet-rt', 'stress'];
  const { controlled } = options;
  if (controlled !== undefined) {
    args.push('--controlled', '--strategy', controlled.strategy);
    if (controlled.depth !== undefined) args.push('--depth', String(controlled.depth));
    if (controlled.quantum !== undefined) args.push('--quantum', String(controlled.quantum));
  }
  args.push('--seed', String(options.seed), '--cpus', String(options.cpus));
  args.push('--tasklets', String(options.tasklets), '--duration', `${options.durationMs}ms`);
  args.push(...(options.hotplugMs > 0 ? ['--hotplug', `${options.hotplugMs}ms`] : ['--no-hotplug']));
  if (options.inject !== undefined) args.push('--inject', options.inject);
  const mix = OPS.filter((op) => options.mix[op] !== DEFAULT_MIX[op]).map((op) => `${op}=${options.mix[op]}`);
  if (mix.length > 0) args.push('--mix', mix.join(','));
  if (!options.oracles) args.push('--no-oracles');
  return args.join(' ');
}
