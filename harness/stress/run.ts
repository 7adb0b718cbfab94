/**
 * Runs the stress workload on a machine: epochs of free-running load, each ended by a drain
 * (no new work, every queue empties) where the drain-time oracles check every tasklet; optional
 * CPU hotplug cycles; a stats sample every second. Ends at the duration or the first violation.
 */
import type { Machine } from '../../machine/index.ts';
import { MachineView } from '../../machine/view.ts';
import { guaranteeLabel } from '../oracles/guarantees.ts';
import { listsAtFault } from '../oracles/lists-at-fault.ts';
import { Prng } from '../prng.ts';
import { traceWindow, writeTraceFiles } from '../trace/output.ts';
import type { TraceSummary } from '../trace/summary.ts';
import { bootStressMachine, KernelReports } from './boot.ts';
import { RunClock } from './clock.ts';
import type { StressContext } from './context.ts';
import { readCoverage, type StressCoverage } from './coverage.ts';
import { drainEpoch } from './drain.ts';
import { runEpochs } from './epochs.ts';
import { hotplugStep } from './hotplug.ts';
import { type StressHooks, type StressOptions, WINDOW_TRACE_CAPACITY } from './options.ts';
import { type StressResult, type StressSchedule, statusOf } from './result.ts';
import { Phase } from './shadow.ts';
import { cpuTotals, scheduleSummary } from './totals.ts';
import { StopSignal, Verdicts } from './verdicts.ts';
import { WorkloadHandle } from './workload-handle.ts';

export type { StressHooks, StressOptions } from './options.ts';
export { WINDOW_TRACE_CAPACITY } from './options.ts';
export type {
  CpuTotals,
  StatsSample,
  StressResult,
  StressSchedule,
  StressStatus,
  ViolationReport,
} from './result.ts';

const TRACE_WINDOW_EVENTS = 24;

export async function runStress(options: StressOptions, hooks: StressHooks = {}): Promise<StressResult> {
  const clock = new RunClock();
  const stop = new StopSignal();
  let workload: WorkloadHandle | null = null;
  const verdicts = new Verdicts(stop, clock, (i) => workload?.events(i) ?? []);
  const traceCapacity = options.traceCapacity ?? WINDOW_TRACE_CAPACITY;
  const reports = new KernelReports(verdicts, options.oracles);
  const machine = await bootStressMachine(options, traceCapacity, verdicts, reports);
  reports.machine = machine;
  reports.sh = machine.sharedWords('stress-shadow');
  const view = new MachineView(machine.memory);
  const rng = new Prng(options.seed ^ 0x5eed);
  let interrupted = false;
  hooks.interrupted?.then(() => {
    interrupted = true;
    stop.stop();
  });
  let epochs = 0;
  let hotplugOps = 0;
  const hotplugStats = { inFlight: 0, backToBack: 0 };
  let schedule: StressSchedule | null = null;
  let coverage: StressCoverage | null = null;
  try {
    workload = new WorkloadHandle(machine, options.tasklets);
    const ctx: StressContext = { options, machine, view, workload, verdicts, stop, clock };
    machine.control?.setStepLimit(options.stepLimit ?? Number.POSITIVE_INFINITY);
    await workload.setup(machine, options);
    clock.start(machine);
    for (let cpu = 0; cpu < options.cpus; cpu++) await machine.startTask(cpu, 'stress', { mix: options.mix });
    await runEpochs(ctx, {
      sample: () =>
        hooks.onSample?.({
          elapsedMs: clock.elapsed(),
          perCpu: cpuTotals(view, options.cpus),
          online: machine.onlineCpus(),
          violations: verdicts.violations.length,
        }),
      hotplug: async () => {
        hotplugOps += await hotplugStep(ctx, rng, hotplugStats);
      },
      drain: () => drainEpoch(ctx, ++epochs, false),
    });
    machine.control?.setStepLimit(Number.POSITIVE_INFINITY); // the drain still has to run
    if (!stop.stopping || verdicts.violations.length === 0) await drainEpoch(ctx, ++epochs, true);
  } catch (error) {
    verdicts.faults.push(error instanceof Error ? error.message : String(error));
  } finally {
    // A fault names no cause by itself: what the kernel's lists say then often does.
    const lists =
      verdicts.faults.length > 0 && verdicts.violations.length === 0 && workload !== null
        ? listsAtFault(view, machine.memory, workload.names)
        : null;
    if (lists !== null)
      verdicts.faults.push(
        `at the fault, ${guaranteeLabel(lists.guarantee)} (${lists.oracle}): ${lists.message}`,
      );
    // Taken before the shutdown: stopping CPUs run free and trace on the real clock.
    schedule = scheduleSummary(machine, options, clock.elapsed());
    if (workload !== null) coverage = readCoverage(machine.sharedWords('stress-coverage'));
    workload?.setPhase(Phase.Stop);
    await machine.shutdown();
  }
  const trace = writeTraces(machine, options, traceCapacity, verdicts, workload?.nameMap() ?? new Map());
  const { violations, faults, oopses } = verdicts;
  if (oopses.length > 0 && faults.length === 0)
    faults.push(`${oopses.length} oops(es) while running (--oops=continue)`);
  return {
    status: statusOf(violations.length, faults.length, interrupted),
    seed: options.seed,
    options,
    elapsedMs: clock.elapsed(),
    epochs,
    hotplugOps,
    violations,
    faults,
    oopses,
    totals: cpuTotals(view, options.cpus),
    bootMs: machine.bootMs,
    schedule,
    trace,
    coverage,
    hotplugInFlight: hotplugStats.inFlight,
    hotplugBackToBack: hotplugStats.backToBack,
  };
}

/** The first violation's trace window, and the whole trace when asked for (what the files hold). */
function writeTraces(
  machine: Machine,
  options: StressOptions,
  traceCapacity: number,
  verdicts: Verdicts,
  names: Map<number, string>,
): TraceSummary | null {
  const first = verdicts.violations[0];
  if (first !== undefined && traceCapacity > 0)
    first.trace = traceWindow(machine, first.cpus, TRACE_WINDOW_EVENTS, first.machineMs, names);
  return options.traceFiles === undefined ? null : writeTraceFiles(machine, options.traceFiles, names);
}
