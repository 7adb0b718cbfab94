/**
 * One module fuzz program on a fresh machine (the module's own state and lockdep's cannot be
 * reset between programs): boot, the steps made by the controller, a drain with the same
 * checks as stress (what each tasklet is owed, the invariants), and every oracle of the
 * harness throughout. In controlled mode the program's seed decides the schedule, and the
 * decision log it made replays it exactly.
 */
import type { StrategyName } from '../../control/block.ts';
import type { ControlledOptions, RunPlan } from '../../control/driver.ts';
import { RunClock } from '../stress/clock.ts';
import type { ViolationReport } from '../stress/result.ts';
import { StopSignal, Verdicts } from '../stress/verdicts.ts';
import type { FuzzStepArg } from './harness-module.ts';
import { M_ALIVE } from './layout.ts';
import { bootModuleMachine, type ModuleHarness } from './machine.ts';
import type { ModuleProgram, Step } from './program.ts';
import type { Stimulus, StimulusError } from './stimulus.ts';
import { drainModule, lateStimulusError, waitFor } from './stress.ts';

export interface ProgramMachine {
  file: string;
  cpus: number;
  params?: Record<string, number>;
  /** Controlled mode (its seed is the program's); undefined: free-running. */
  controlled?: ControlledOptions;
  /** Controlled: the strategies programs take by their seed (seed mod their number); else `controlled.strategy`. */
  strategies?: readonly StrategyName[];
}

/** The controlled schedule `program` runs under on `target`, or undefined free-running. */
export function programSchedule(
  target: ProgramMachine,
  program: ModuleProgram,
): ControlledOptions | undefined {
  const { controlled, strategies } = target;
  if (controlled === undefined) return undefined;
  const strategy = strategies?.[program.seed % strategies.length] ?? controlled.strategy;
  return { ...controlled, strategy, seed: program.seed };
}

export interface ProgramOutcome {
  /** The first finding, or null. */
  violation: ViolationReport | null;
  /** A fault (oops, hang, dead worker) the program ended with. */
  fault: string | null;
  stimulus: Stimulus;
  /** Controlled: the run's decisions, its log, and whether the log overflowed. */
  schedule: { steps: number; log: number[]; overflow: boolean } | null;
}

/** Machine time after each step, so steps are apart (a controlled run decides in between). */
const STEP_GAP_MS = 0.01;
const READY_MS = 10_000;

/** Runs `program`; `replay`: follow this decision log instead of the program's seed. */
export async function runModuleProgram(
  target: ProgramMachine,
  program: ModuleProgram,
  replay?: number[],
): Promise<ProgramOutcome> {
  const stop = new StopSignal();
  let harness: ModuleHarness | null = null;
  const verdicts = new Verdicts(stop, new RunClock(), (id) => harness?.events(id) ?? []);
  const planned = programSchedule(target, program);
  const plan: RunPlan | undefined = planned === undefined ? undefined : { ...planned, replay };
  harness = await bootModuleMachine(
    {
      file: target.file,
      cpus: target.cpus,
      params: target.params,
      controlled: plan,
      traceCapacity: 0,
      warn: 'fail',
    },
    verdicts,
    [],
  );
  const h = harness;
  const { machine } = h;
  let schedule: ProgramOutcome['schedule'] = null;
  let lateError: StimulusError | null = null;
  try {
    const ready = await waitFor(
      h,
      verdicts,
      () => h.ready(),
      READY_MS,
      'the module init and probe did not finish',
    );
    if (ready) lateError = lateStimulusError(h);
    if (ready && lateError === null) {
      // No generated stimulus: the stimulus tasks only answer the drain.
      const idle = { seed: 0, lines: [], tasks: [], perCpu: 0 };
      for (let cpu = 0; cpu < target.cpus; cpu++) {
        await machine.startTask(cpu, 'module_irq_generator', idle, 'stimulus-irq');
        await machine.startTask(cpu, 'module_task_starter', idle, 'stimulus-tasks');
      }
      for (const step of program.steps) {
        if (stop.stopping) break;
        await runStep(h, step);
        await machine.sleep(STEP_GAP_MS);
      }
      if (!stop.stopping) await drainModule(h, verdicts, 1, true);
    }
  } catch (error) {
    if (verdicts.faults.length === 0)
      verdicts.faults.push(error instanceof Error ? error.message : String(error));
  } finally {
    if (machine.control !== null) {
      const stats = machine.control.stats();
      schedule = { steps: stats.steps, log: machine.control.log(), overflow: stats.logOverflow };
    }
    await machine.shutdown();
  }
  if (lateError !== null) throw lateError;
  return {
    violation: verdicts.violations[0] ?? null,
    fault: verdicts.faults[0] ?? null,
    stimulus: h.stimulus,
    schedule,
  };
}

/** One step; one that cannot apply now (a CPU already down, the last one) does nothing. */
async function runStep(h: ModuleHarness, step: Step): Promise<void> {
  const { machine } = h;
  const online = machine.onlineCpus();
  /** A step that runs as a task: alive from now on, so that a drain waits for it. */
  const asTask = async (arg: FuzzStepArg): Promise<void> => {
    if (!online.includes(arg.cpu)) return;
    Atomics.add(h.control, M_ALIVE + arg.cpu, 1);
    try {
      await machine.startTask(arg.cpu, 'module_fuzz_step', arg, 'fuzz');
    } catch (error) {
      Atomics.sub(h.control, M_ALIVE + arg.cpu, 1);
      throw error;
    }
  };
  switch (step.op) {
    case 'irq':
      machine.raiseIrq(step.cpu, step.irq);
      return;
    case 'storm': {
      const rate = h.stimulus.lines.find((l) => l.irq === step.irq)?.rate ?? 0;
      if (rate > 0) await asTask({ cpu: step.cpu, storm: { irq: step.irq, rate, us: step.us } });
      return;
    }
    case 'task':
      await asTask({ cpu: step.cpu, task: step.name });
      return;
    case 'cycle':
      await asTask({ cpu: step.cpu, cycles: step.times ?? 1 });
      return;
    case 'down':
      if (online.includes(step.cpu) && online.length > 1) await machine.cpuDown(step.cpu);
      return;
    case 'up':
      if (!online.includes(step.cpu)) await machine.cpuUp(step.cpu);
      return;
    case 'delay':
      await machine.sleep(step.us / 1000);
  }
}

/** What makes two findings the same bug (the oracle and its message, CPU numbers aside). */
export function findingKey(v: ViolationReport): string {
  return `${v.oracle}|${v.name}|${v.message.split('\n')[0].replace(/CPU ?\d+/g, 'CPU')}`;
}
