/**
 * A module's stimulus declaration, checked on the controller before any module code runs
 * (Machine's beforeStart: the CPUs have loaded the module, no init has run), and turned into
 * the plan the CPUs' stimulus tasks follow. A line the module does not request in `irqs` may be
 * one its init or probe requests (request_irq, as a driver's probe does): that is decided once
 * they ran, before the stimulus starts (checkRequestedLines).
 */
import { FIRST_DEVICE_IRQ } from '../../kernel/irq.ts';
import { NR_IRQS } from '../../shm/layout.ts';
import type { BootMetadata, DriverMetadata } from '../../shm/protocol.ts';
import { HARNESS_MODULE_NAME } from './harness-name.ts';
import { MAX_LINES, MAX_TASKS, type StimulusPlan } from './layout.ts';

/** A bad declaration: the CLI prints its one line and exits 2. */
export class StimulusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StimulusError';
  }
}

/** What a harness drives: the checked stimulus of the module under test. */
export interface Stimulus {
  module: string;
  lines: { irq: number; rate: number }[];
  /** Lines not in `irqs`: the module's init or probe must request them (checkRequestedLines). */
  lateLines: number[];
  /** The lines the module requests in `irqs` (for the messages). */
  bootLines: number[];
  tasks: { name: string; weight: number }[];
  lifecycle: boolean;
  probe: boolean;
  invariants: string[];
}

const shown = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value));
const list = (items: readonly (string | number)[]): string => (items.length > 0 ? items.join(', ') : 'none');

/** The module under test (the first that is not the harness), its declaration checked. */
export function checkStimulus(metadata: BootMetadata, required: boolean): Stimulus | null {
  const driver = metadata.drivers.find((d) => d.module !== HARNESS_MODULE_NAME);
  if (driver === undefined) throw new StimulusError('no module to drive (it defines no module)');
  if (driver.stimulus === null) {
    if (!required) return null;
    throw new StimulusError(
      `module '${driver.module}' declares no stimulus: add stimulus: { irqs: { LINE: { rate } }, tasks: { NAME: weight } } to its defineModule`,
    );
  }
  return validate(driver);
}

function validate(driver: DriverMetadata): Stimulus {
  const declared = driver.stimulus!;
  const where = `module '${driver.module}': stimulus`;
  const lines: Stimulus['lines'] = [];
  const lateLines: number[] = [];
  for (const [key, source] of Object.entries(declared.irqs)) {
    const irq = Number(key);
    if (!Number.isInteger(irq) || irq < FIRST_DEVICE_IRQ || irq >= NR_IRQS)
      throw new StimulusError(
        `${where}.irqs: ${shown(key)} is not a device line (${FIRST_DEVICE_IRQ} to ${NR_IRQS - 1})`,
      );
    if (!driver.irqs.includes(irq)) lateLines.push(irq);
    const rate = source.rate;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0)
      throw new StimulusError(
        `${where}.irqs[${key}].rate: ${shown(rate)} is not a rate (interrupts per second: a finite number, 0 or more)`,
      );
    lines.push({ irq, rate });
  }
  const tasks: Stimulus['tasks'] = [];
  for (const [name, weight] of Object.entries(declared.tasks)) {
    if (!driver.tasks.includes(name))
      throw new StimulusError(
        `${where}.tasks: '${name}' is not one of the module's tasks (it has: ${list(driver.tasks)})`,
      );
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0)
      throw new StimulusError(
        `${where}.tasks.${name}: ${shown(weight)} is not a weight (a positive finite number)`,
      );
    tasks.push({ name, weight });
  }
  if (lines.length > MAX_LINES) throw new StimulusError(`${where}.irqs: more than ${MAX_LINES} lines`);
  if (tasks.length > MAX_TASKS) throw new StimulusError(`${where}.tasks: more than ${MAX_TASKS} tasks`);
  if (declared.lifecycle && !(driver.probe && driver.remove)) {
    const missing = [driver.probe ? null : 'probe', driver.remove ? null : 'remove'].filter(
      (m) => m !== null,
    );
    throw new StimulusError(
      `${where}.lifecycle: true needs probe and remove (the module has no ${missing.join(' and no ')})`,
    );
  }
  return {
    module: driver.module,
    lines,
    lateLines,
    bootLines: driver.irqs,
    tasks,
    lifecycle: declared.lifecycle,
    probe: driver.probe,
    invariants: driver.invariants,
  };
}

/**
 * After the module's init and probe ran (the nearest a harness gets to knowing what it
 * requests): every declared line not in `irqs` must have been given a machine-wide handler by
 * request_irq. `requested`: the machine's mask of such lines (G_IRQ_MACHINE_WIDE).
 */
export function checkRequestedLines(stimulus: Stimulus, requested: number): void {
  const missing = stimulus.lateLines.find((irq) => (requested & (1 << irq)) === 0);
  if (missing === undefined) return;
  const late = [...Array(NR_IRQS).keys()].filter((irq) => (requested & (1 << irq)) !== 0);
  throw new StimulusError(
    `module '${stimulus.module}': stimulus.irqs: line ${missing} is not one the module requests, in irqs or with request_irq in its init or probe (it requests: ${list([...stimulus.bootLines, ...late])}; request_irq's handler must be in callbacks)`,
  );
}

/** Tasks of the module the harness runs at once on each CPU. */
const TASKS_PER_CPU = 1;

export function stimulusPlan(stimulus: Stimulus, seed: number): StimulusPlan {
  return { seed, lines: stimulus.lines, tasks: stimulus.tasks, perCpu: TASKS_PER_CPU };
}
