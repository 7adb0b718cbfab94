/**
 * A machine running a user's module under the module harness (stress and fuzz of a module):
 * the module, then the harness module; the stimulus declaration checked before any init runs;
 * kernel reports, CPU-side violations, oopses and faults routed to one set of verdicts; and
 * the controller's view of the harness's words.
 */
import { fileURLToPath } from 'node:url';
import type { ControlledOptions } from '../../control/driver.ts';
import { CALL_FUNCTION_IRQ, TIMER_IRQ } from '../../kernel/irq.ts';
import { Machine } from '../../machine/index.ts';
import { MachineView } from '../../machine/view.ts';
import { C_IRQ_PENDING, G_IRQ_MACHINE_WIDE } from '../../shm/layout.ts';
import { injectMutant } from '../inject.ts';
import { F_INSIDE, F_RUNS, recent_events, tw } from '../oracles/shadow.ts';
import { KernelReports } from '../stress/boot.ts';
import { isKernelReport, reportHeadline } from '../stress/kernel-reports.ts';
import type { ViolationReport } from '../stress/result.ts';
import type { Verdicts } from '../stress/verdicts.ts';
import {
  CONTROL_NAME,
  EXTRA_NAME,
  M_ACK,
  M_ALIVE,
  M_EPOCH,
  M_PHASE,
  M_READY,
  MAX_TRACKED,
  Phase,
  SHADOW_NAME,
  X_POPPED,
  X_PUSHED,
  X_SEEN,
  xw,
} from './layout.ts';
import { checkRequestedLines, checkStimulus, type Stimulus } from './stimulus.ts';

/** The timer and function-call lines are always about: only device lines count as work left. */
const SYSTEM_IRQS = (1 << TIMER_IRQ) | (1 << CALL_FUNCTION_IRQ);

const harnessModule = fileURLToPath(new URL('./harness-module.ts', import.meta.url));

export type WarnPolicy = 'fail' | 'continue';

export interface ModuleMachineOptions {
  file: string;
  cpus: number;
  params?: Record<string, number>;
  controlled?: ControlledOptions;
  traceCapacity: number;
  warn: WarnPolicy;
  oopsContinue?: boolean;
  /** A mutant of the mechanism (harness/mutants.ts): proves the oracles catch what they claim. */
  inject?: string;
}

/** The harness's words on the controller, and what it reads from them. */
export class ModuleHarness {
  readonly control: Int32Array;
  readonly sh: Int32Array;
  readonly xs: Int32Array;
  readonly view: MachineView;
  constructor(
    readonly machine: Machine,
    readonly stimulus: Stimulus,
  ) {
    this.control = machine.sharedWords(CONTROL_NAME);
    this.sh = machine.sharedWords(SHADOW_NAME);
    this.xs = machine.sharedWords(EXTRA_NAME);
    this.view = new MachineView(machine.memory);
  }

  ready(): boolean {
    return Atomics.load(this.control, M_READY) !== 0;
  }

  /**
   * Once ready: throws a StimulusError if a declared line is one the module's init and probe
   * did not request (a declaration that cannot be told bad before they ran).
   */
  checkLines(): void {
    checkRequestedLines(this.stimulus, Atomics.load(this.machine.memory.mem, G_IRQ_MACHINE_WIDE));
  }

  /** Tasklet ids the shadow has seen something of. */
  ids(): number[] {
    const ids: number[] = [];
    for (let id = 0; id < MAX_TRACKED; id++) if (Atomics.load(this.xs, xw(id, X_SEEN)) !== 0) ids.push(id);
    return ids;
  }

  name(id: number): string {
    return this.machine.metadata.staticTasklets[id] ?? `tasklet#${id}`;
  }

  names(): Map<number, string> {
    return new Map(this.ids().map((id) => [id, this.name(id)]));
  }

  runs(id: number): number {
    return Atomics.load(this.sh, tw(id, F_RUNS));
  }

  /** Effective schedules not yet paid for by a run start; the CPU inside the callback (or -1). */
  owed(id: number): { owed: number; inside: number } {
    return {
      owed: Atomics.load(this.xs, xw(id, X_PUSHED)) - Atomics.load(this.xs, xw(id, X_POPPED)),
      inside: Atomics.load(this.sh, tw(id, F_INSIDE)) - 1,
    };
  }

  events(id: number) {
    return recent_events(this.sh, id);
  }

  setPhase(phase: Phase): void {
    Atomics.store(this.control, M_PHASE, phase);
  }

  /** Asks the stimulus to stop for drain `epoch`. */
  beginDrain(epoch: number): void {
    Atomics.store(this.control, M_EPOCH, epoch);
    this.setPhase(Phase.Drain);
  }

  /** Every CPU's interrupt generator and task starter stopped for `epoch` (with no task left). */
  acked(cpus: readonly number[], epoch: number): boolean {
    return cpus.every(
      (cpu) =>
        Atomics.load(this.control, M_ACK + cpu * 2) === epoch &&
        Atomics.load(this.control, M_ACK + cpu * 2 + 1) === epoch,
    );
  }

  /** Module tasks the harness started that are still alive, per CPU. */
  alive(cpus: readonly number[]): number[] {
    return cpus.map((cpu) => Atomics.load(this.control, M_ALIVE + cpu));
  }

  /** Nothing queued, no tracked tasklet scheduled or running, no device interrupt pending. */
  drained(): boolean {
    const cpus = this.machine.onlineCpus();
    const pending = cpus.some((cpu) => (this.view.cpuWord(cpu, C_IRQ_PENDING) & ~SYSTEM_IRQS) !== 0);
    return !pending && this.view.drained(this.ids());
  }
}

/**
 * Boots the machine; rejects with a StimulusError when the declaration is bad (no module init
 * has run then). `required`: a module without a stimulus is an error (stress, fuzz).
 */
export async function bootModuleMachine(
  options: ModuleMachineOptions,
  verdicts: Verdicts,
  continued: string[],
): Promise<ModuleHarness> {
  let stimulus: Stimulus | null = null;
  let harness: ModuleHarness | null = null;
  const reports = new KernelReports(verdicts, true);
  const machine = await Machine.boot({
    cpus: options.cpus,
    modules: [options.file, harnessModule],
    // A module under test is unloaded, not just stopped: what it leaves behind is checked.
    params: { 'kasan.module_exit': 1, ...options.params },
    controlled: options.controlled,
    ...injectMutant(options.inject),
    trace: options.traceCapacity > 0 ? { capacity: options.traceCapacity } : undefined,
    beforeStart: (metadata) => {
      stimulus = checkStimulus(metadata, true);
    },
    onPrintk: (cpu, level, text) => {
      if (!isKernelReport(level, text)) return;
      if (options.warn === 'continue') continued.push(`CPU${cpu}: ${reportHeadline(text)}`);
      else reports.printk(cpu, level, text);
    },
    onReport: (_cpu, key, value) => {
      if (key !== 'violation') return;
      const v = value as ViolationReport;
      verdicts.violation({ ...v, name: harness?.name(v.tasklet) ?? `tasklet#${v.tasklet}` });
    },
    onOops: (oops) => verdicts.oops(oops, options.oopsContinue === true),
    onFault: (fault) => verdicts.fault(fault.message),
  });
  reports.machine = machine;
  harness = new ModuleHarness(machine, stimulus!);
  return harness;
}
