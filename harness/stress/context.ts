/** What the pieces of a stress run share: the machine, its view, the workload, what was found. */
import type { Machine } from '../../machine/index.ts';
import type { MachineView } from '../../machine/view.ts';
import type { RunClock } from './clock.ts';
import type { StressOptions } from './options.ts';
import type { StopSignal, Verdicts } from './verdicts.ts';
import type { WorkloadHandle } from './workload-handle.ts';

export interface StressContext {
  readonly options: StressOptions;
  readonly machine: Machine;
  readonly view: MachineView;
  readonly workload: WorkloadHandle;
  readonly verdicts: Verdicts;
  readonly stop: StopSignal;
  readonly clock: RunClock;
}
