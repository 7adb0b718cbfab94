/**
 * The stress main loop: free-running load in epochs, each ended by a drain; a hotplug step every
 * period; a stats sample every second. Until the duration, the step limit or a stop.
 */
import type { StressContext } from './context.ts';
import type { StressOptions } from './options.ts';

/** What the loop needs of a run (the stress run, or the module harness's). */
export type EpochContext = Pick<StressContext, 'machine' | 'clock' | 'stop'> & {
  options: Pick<StressOptions, 'durationMs' | 'hotplugMs' | 'epochMs' | 'stepLimit'> & {
    /** Period of the extra step (the module harness's remove → probe); 0 or absent: none. */
    extraMs?: number;
  };
};

/** Controlled mode: virtual time per turn of the main loop, so it still looks at the wall clock. */
const CONTROLLED_SLICE_MS = 5;
const SAMPLE_EVERY_MS = 1000;

export interface EpochSteps {
  sample(): void;
  hotplug(): Promise<void>;
  drain(): Promise<void>;
  /** Every options.extraMs of machine time. */
  extra?(): Promise<void>;
}

export async function runEpochs(ctx: EpochContext, steps: EpochSteps): Promise<void> {
  const { machine, clock, stop, options } = ctx;
  const { durationMs, hotplugMs } = options;
  const epochMs = options.epochMs ?? 1000;
  const stepLimit = options.stepLimit ?? Number.POSITIVE_INFINITY;
  const stepLimitReached = (): boolean =>
    machine.control !== null && machine.control.stats().steps >= stepLimit;
  let nextSample = SAMPLE_EVERY_MS;
  let nextDrain = epochMs;
  let nextHotplug = hotplugMs > 0 ? hotplugMs : Number.POSITIVE_INFINITY;
  const extraMs = options.extraMs ?? 0;
  let nextExtra = extraMs > 0 && steps.extra !== undefined ? extraMs : Number.POSITIVE_INFINITY;
  // Samples follow the wall clock; drains, hotplug and (controlled) the duration the machine's:
  // a controlled run's --duration is virtual time, so the same seed gives the same run.
  const within = (): boolean =>
    machine.control !== null ? clock.machineElapsed(machine) < durationMs : clock.elapsed() < durationMs;
  while (!stop.stopping && within() && !stepLimitReached()) {
    if (clock.elapsed() >= nextSample) {
      steps.sample();
      nextSample += SAMPLE_EVERY_MS;
    }
    const now = clock.machineElapsed(machine);
    if (now >= nextHotplug) {
      await steps.hotplug();
      nextHotplug += hotplugMs;
    }
    if (now >= nextExtra) {
      await steps.extra?.();
      nextExtra += extraMs;
    }
    if (now >= nextDrain) {
      await steps.drain();
      nextDrain = clock.machineElapsed(machine) + epochMs;
    }
    const machineLeft = Math.min(nextDrain, nextHotplug, nextExtra) - clock.machineElapsed(machine);
    // Controlled: slices of machine time only, so that where the controller steps in never
    // depends on the wall clock.
    if (machine.control !== null)
      await machine.sleep(
        Math.max(
          0.001,
          Math.min(machineLeft, CONTROLLED_SLICE_MS, durationMs - clock.machineElapsed(machine)),
        ),
      );
    else
      await stop.sleep(
        Math.max(1, Math.min(nextSample - clock.elapsed(), durationMs - clock.elapsed(), machineLeft)),
      );
  }
}
