/**
 * `stress MODULE`: a machine runs the module under its declared stimulus (interrupts at their
 * rates on random CPUs, its tasks by weight, remove → probe cycles, CPU hotplug) in epochs,
 * each ended by a drain where the harness judges what it owes (G4) and runs the module's
 * invariants. The CPU-side oracles (shadow-hooks.ts) report as they go; any kernel report
 * fails the run unless --warn continue. Ends at the duration or the first finding.
 */
import type { ControlledOptions } from '../../control/driver.ts';
import { WaitKind } from '../../shm/layout.ts';
import { drain } from '../oracles/drain.ts';
import { type Violation, violation } from '../oracles/guarantees.ts';
import { Prng } from '../prng.ts';
import { shortHash } from '../schedule-report.ts';
import { RunClock } from '../stress/clock.ts';
import { runEpochs } from '../stress/epochs.ts';
import type { CpuTotals, StressSchedule, ViolationReport } from '../stress/result.ts';
import { type StressStatus, statusOf } from '../stress/result.ts';
import { cpuTotals } from '../stress/totals.ts';
import { StopSignal, Verdicts } from '../stress/verdicts.ts';
import { type TraceFiles, traceWindow, writeTraceFiles } from '../trace/output.ts';
import type { TraceSummary } from '../trace/summary.ts';
import { M_IRQS, M_LIFECYCLE, M_STARTS, M_UNTRACKED, Phase } from './layout.ts';
import { bootModuleMachine, type ModuleHarness, type WarnPolicy } from './machine.ts';
import { type Stimulus, StimulusError, stimulusPlan } from './stimulus.ts';

export interface ModuleStressOptions {
  file: string;
  /** How the report names the file (default: file). */
  display?: string;
  cpus: number;
  durationMs: number;
  seed: number;
  hotplugMs: number;
  warn: WarnPolicy;
  params?: Record<string, number>;
  controlled?: ControlledOptions;
  stepLimit?: number;
  /** Machine time between drains. Default 1000 ms (100 ms controlled). */
  epochMs?: number;
  /** Machine time between remove → probe cycles (stimulus.lifecycle). Default 50 ms. */
  lifecycleMs?: number;
  traceCapacity: number;
  traceFiles?: TraceFiles;
  oopsContinue?: boolean;
  inject?: string;
}

export interface ModuleHooks {
  /** The machine booted and the stimulus declaration passed. */
  onStarted?: () => void;
  onSample?: (sample: { elapsedMs: number; runs: number; irqs: number; violations: number }) => void;
  interrupted?: Promise<void>;
}

export interface ModuleStressResult {
  status: StressStatus;
  options: ModuleStressOptions;
  stimulus: Stimulus | null;
  elapsedMs: number;
  bootMs: number;
  epochs: number;
  hotplugOps: number;
  lifecycleCycles: number;
  tasklets: { id: number; name: string; runs: number }[];
  irqs: { irq: number; name: string; raised: number }[];
  starts: { name: string; count: number }[];
  /** Events of tasklets past the shadow's size: left unjudged. */
  untracked: number;
  violations: ViolationReport[];
  faults: string[];
  /** Kernel reports under --warn continue (headlines). */
  continued: string[];
  totals: CpuTotals[];
  schedule: StressSchedule | null;
  trace: TraceSummary | null;
}

const TRACE_WINDOW_EVENTS = 24;

/** The machine failed before the stimulus could start (the fault says why). */
class NotStarted extends Error {}
const ACK_TIMEOUT_MS = { free: 10_000, controlled: 500 };
const DRAIN_TIMEOUT_MS = { free: 10_000, controlled: 500 };
const READY_TIMEOUT_MS = 10_000;

export async function stressModule(
  options: ModuleStressOptions,
  hooks: ModuleHooks = {},
): Promise<ModuleStressResult> {
  const clock = new RunClock();
  const stop = new StopSignal();
  let harness: ModuleHarness | null = null;
  const verdicts = new Verdicts(stop, clock, (id) => harness?.events(id) ?? []);
  const continued: string[] = [];
  harness = await bootModuleMachine({ ...options, controlled: options.controlled }, verdicts, continued);
  const h = harness;
  const { machine, stimulus } = h;
  const controlled = machine.control !== null;
  let interrupted = false;
  hooks.interrupted?.then(() => {
    interrupted = true;
    stop.stop();
  });
  const rng = new Prng(options.seed ^ 0x40d);
  let epochs = 0;
  let hotplugOps = 0;
  let schedule: StressSchedule | null = null;
  let irqs: ModuleStressResult['irqs'] = [];
  let starts: ModuleStressResult['starts'] = [];
  let lateError: StimulusError | null = null;
  try {
    const ready = await waitFor(
      h,
      verdicts,
      () => h.ready(),
      READY_TIMEOUT_MS,
      'the module init and probe did not finish',
    );
    if (ready) lateError = lateStimulusError(h);
    if (lateError === null) hooks.onStarted?.();
    if (!ready || lateError !== null) throw new NotStarted();
    const plan = stimulusPlan(stimulus, options.seed);
    machine.control?.setStepLimit(options.stepLimit ?? Number.POSITIVE_INFINITY);
    clock.start(machine);
    for (let cpu = 0; cpu < options.cpus; cpu++) {
      await machine.startTask(cpu, 'module_irq_generator', plan, 'stimulus-irq');
      await machine.startTask(cpu, 'module_task_starter', plan, 'stimulus-tasks');
    }
    const runDrain = (final: boolean) => drainModule(h, verdicts, ++epochs, final || !stop.stopping);
    await runEpochs(
      {
        machine,
        clock,
        stop,
        options: {
          durationMs: options.durationMs,
          hotplugMs: options.cpus > 1 ? options.hotplugMs : 0,
          epochMs: options.epochMs ?? (controlled ? 100 : 1000),
          stepLimit: options.stepLimit,
          extraMs: stimulus.lifecycle ? (options.lifecycleMs ?? 50) : 0,
        },
      },
      {
        sample: () =>
          hooks.onSample?.({
            elapsedMs: clock.elapsed(),
            runs: h.ids().reduce((s, id) => s + h.runs(id), 0),
            irqs: stimulus.lines.reduce((s, _l, k) => s + Atomics.load(h.control, M_IRQS + k), 0),
            violations: verdicts.violations.length,
          }),
        hotplug: async () => {
          hotplugOps += await hotplugStep(h, rng, verdicts);
        },
        drain: () => runDrain(false),
        extra: async () => {
          const cpu = rng.pick(machine.onlineCpus());
          try {
            await machine.runTask(cpu, 'module_lifecycle', 'cycle');
          } catch (error) {
            if (verdicts.faults.length === 0) verdicts.fault(`remove → probe: ${(error as Error).message}`);
          }
        },
      },
    );
    machine.control?.setStepLimit(Number.POSITIVE_INFINITY);
    if (verdicts.violations.length === 0 && verdicts.faults.length === 0) await runDrain(true);
  } catch (error) {
    if (!(error instanceof NotStarted))
      verdicts.faults.push(error instanceof Error ? error.message : String(error));
  } finally {
    if (machine.control !== null && options.controlled !== undefined) {
      const stats = machine.control.stats();
      schedule = {
        ...stats,
        options: options.controlled,
        decisionsPerSecond: stats.steps / Math.max(clock.elapsed() / 1000, 1e-3),
        traceHash: shortHash(machine.traceRecords()),
        scheduleHash: shortHash(machine.control.log()),
      };
    }
    irqs = stimulus.lines.map((l, k) => ({
      irq: l.irq,
      name: machine.metadata.irqs[l.irq] ?? `irq${l.irq}`,
      raised: Atomics.load(h.control, M_IRQS + k),
    }));
    starts = stimulus.tasks.map((t, k) => ({ name: t.name, count: Atomics.load(h.control, M_STARTS + k) }));
    h.setPhase(Phase.Stop);
    await machine.shutdown();
  }
  if (lateError !== null) throw lateError;
  const first = verdicts.violations[0];
  if (first !== undefined && options.traceCapacity > 0)
    first.trace = traceWindow(machine, first.cpus, TRACE_WINDOW_EVENTS, first.machineMs, h.names());
  const trace =
    options.traceFiles === undefined ? null : writeTraceFiles(machine, options.traceFiles, h.names());
  const { violations, faults, oopses } = verdicts;
  if (oopses.length > 0 && faults.length === 0)
    faults.push(`${oopses.length} oops(es) while running (--oops=continue)`);
  return {
    status: statusOf(violations.length, faults.length, interrupted),
    options,
    stimulus,
    elapsedMs: clock.elapsed(),
    bootMs: machine.bootMs,
    epochs,
    hotplugOps,
    lifecycleCycles: Atomics.load(h.control, M_LIFECYCLE),
    tasklets: h.ids().map((id) => ({ id, name: h.name(id), runs: h.runs(id) })),
    irqs,
    starts,
    untracked: Atomics.load(h.control, M_UNTRACKED),
    violations,
    faults,
    continued,
    totals: cpuTotals(h.view, options.cpus),
    schedule,
    trace,
  };
}

/**
 * One drain: every CPU online, the stimulus stopped (its tasks ended), the machine drained;
 * then what each tasklet is owed (G4) and the module's invariants. `check`: judge it (the
 * drain of a run that is stopping only lets the machine go quiet).
 */
export async function drainModule(
  h: ModuleHarness,
  verdicts: Verdicts,
  epoch: number,
  check: boolean,
): Promise<void> {
  const { machine } = h;
  const controlled = machine.control !== null;
  for (let cpu = 0; cpu < machine.nrCpus; cpu++)
    if (!machine.onlineCpus().includes(cpu)) await machine.cpuUp(cpu);
  h.beginDrain(epoch);
  const acked = await waitFor(
    h,
    verdicts,
    () => h.acked(machine.onlineCpus(), epoch),
    controlled ? ACK_TIMEOUT_MS.controlled : ACK_TIMEOUT_MS.free,
    null,
  );
  if (!acked) {
    if (verdicts.faults.length === 0) {
      const alive = h.alive(machine.onlineCpus());
      const waits = h.view.waiters().map((w) => `CPU${w.cpu} pid ${w.pid} waits (${WaitKind[w.kind]})`);
      verdicts.fault(
        `drain: the stimulus did not stop within ${controlled ? ACK_TIMEOUT_MS.controlled : ACK_TIMEOUT_MS.free} ms of machine time: a module task that never returns (tasks alive per CPU: ${alive.join(', ')}; a task the stimulus starts must end), or a stuck CPU (a deadlock: see the kernel reports)${waits.length > 0 ? `; ${waits.join('; ')}` : ''}`,
      );
    }
    return;
  }
  const result = await drain({
    clock: machine,
    idle: () => h.drained(),
    timeoutMs: controlled ? DRAIN_TIMEOUT_MS.controlled : DRAIN_TIMEOUT_MS.free,
    abandon: () => verdicts.faults.length > 0,
  });
  if (check && verdicts.violations.length === 0 && verdicts.faults.length === 0) {
    const owed = owedRun(h, result.status === 'idle');
    if (owed !== null) verdicts.violation({ ...owed, name: owed.tasklet >= 0 ? h.name(owed.tasklet) : '' });
    else await runInvariants(h, verdicts);
  }
  h.setPhase(Phase.Run);
}

/** G4 at the drain: every effective schedule got its run; nothing still inside a callback. */
function owedRun(h: ModuleHarness, idle: boolean): Violation | null {
  for (const id of h.ids()) {
    const { owed, inside } = h.owed(id);
    const t = h.view.tasklet(id);
    if (owed > 0) {
      const why =
        t.count > 0
          ? `; it is disabled (count ${t.count}): a tasklet_disable without its tasklet_enable?`
          : '';
      return violation(
        'at-least-once',
        id,
        [],
        `tasklet_schedule set SCHED but the run never started by the drain${why}`,
      );
    }
    if (inside >= 0)
      return violation('structure', id, [inside], `still in its callback on CPU${inside} after the drain`);
    if (idle) continue;
  }
  if (!idle) {
    const queued = h.view.cpusWithQueued(h.machine.onlineCpus());
    return violation(
      'structure',
      -1,
      queued,
      `the machine did not drain (queues of CPU ${queued.join(', ')})`,
    );
  }
  return null;
}

async function runInvariants(h: ModuleHarness, verdicts: Verdicts): Promise<void> {
  if (h.stimulus.invariants.length === 0) return;
  const failed = (await h.machine.runTask(0, 'module_invariants')) as { name: string; message: string }[];
  for (const f of failed) {
    verdicts.violation({
      ...violation('kernel-report', -1, [0], `invariant '${f.name}' failed: ${f.message}`),
      name: `invariant ${f.name}`,
    });
  }
}

/** One CPU down (if another stays up) or the offline one back. Returns the steps made. */
async function hotplugStep(h: ModuleHarness, rng: Prng, verdicts: Verdicts): Promise<number> {
  const { machine } = h;
  const online = machine.onlineCpus();
  try {
    if (online.length < machine.nrCpus) {
      const offline = [...Array(machine.nrCpus).keys()].find((cpu) => !online.includes(cpu))!;
      await machine.cpuUp(offline);
      return 1;
    }
    if (online.length < 2) return 0;
    await machine.cpuDown(rng.pick(online));
    return 1;
  } catch (error) {
    if (verdicts.faults.length === 0) verdicts.fault(`hotplug: ${(error as Error).message}`);
    return 0;
  }
}

/** The declaration's error that only the module's init and probe could show, or null. */
export function lateStimulusError(h: ModuleHarness): StimulusError | null {
  try {
    h.checkLines();
    return null;
  } catch (error) {
    if (error instanceof StimulusError) return error;
    throw error;
  }
}

/** Polls `done` each millisecond of machine time; false on a fault or at the timeout. */
export async function waitFor(
  h: ModuleHarness,
  verdicts: Verdicts,
  done: () => boolean,
  timeoutMs: number,
  what: string | null,
): Promise<boolean> {
  const deadline = h.machine.now() + timeoutMs;
  while (!done()) {
    if (verdicts.faults.length > 0) return false;
    if (h.machine.now() > deadline) {
      if (what !== null) verdicts.fault(`${what} within ${timeoutMs} ms`);
      return false;
    }
    await h.machine.sleep(1);
  }
  return true;
}
