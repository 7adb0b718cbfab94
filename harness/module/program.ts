/**
 * Module fuzz programs: sequences of the module's own entry points, made by the controller at
 * its points of control (so a controlled run places each at the same decision every time):
 * raise one of its declared lines on a CPU, a storm of one (the device raising it at its declared
 * rate for a while, on every CPU in turn: a single raise rarely lands in a window of a few
 * accesses), start one of its declared tasks on a CPU, some remove → probe
 * cycles on a CPU, take a CPU down or bring it back, let some machine time pass.
 * Generated with fast-check from the declaration, and shrunk by fast-check.
 */
import fc from 'fast-check';
import type { Stimulus } from './stimulus.ts';

export type Step =
  | { op: 'irq'; irq: number; cpu: number }
  | { op: 'storm'; irq: number; cpu: number; us: number }
  | { op: 'task'; name: string; cpu: number }
  | { op: 'cycle'; cpu: number; times?: number }
  | { op: 'down'; cpu: number }
  | { op: 'up'; cpu: number }
  | { op: 'delay'; us: number };

export interface ModuleProgram {
  /** The seed of its controlled schedule (free-running: unused). */
  seed: number;
  steps: Step[];
}

export const MAX_STEPS = 12;
const MAX_DELAY_US = 200;
/** remove → probe cycles in one step at most (a reload loop: a race per cycle). */
const MAX_CYCLES = 16;
const MAX_STORM_US = 200_000; // the controller's steps are milliseconds apart: a storm spans several

/**
 * The steps the declaration allows. Records of constants and integers only (no map), so that
 * fast-check can shrink a program it did not generate itself (a failing one, given as an example).
 */
export function stepArb(stimulus: Stimulus, cpus: number): fc.Arbitrary<Step> {
  const cpu = fc.nat({ max: cpus - 1 });
  const choices: fc.Arbitrary<Step>[] = [
    fc.record({ op: fc.constant('delay' as const), us: fc.integer({ min: 1, max: MAX_DELAY_US }) }),
  ];
  if (stimulus.lines.length > 0)
    choices.push(
      fc.record({
        op: fc.constant('irq' as const),
        irq: fc.constantFrom(...stimulus.lines.map((l) => l.irq)),
        cpu,
      }),
    );
  const storming = stimulus.lines.filter((l) => l.rate > 0);
  if (storming.length > 0)
    choices.push(
      fc.record({
        op: fc.constant('storm' as const),
        irq: fc.constantFrom(...storming.map((l) => l.irq)),
        cpu,
        us: fc.integer({ min: 1, max: MAX_STORM_US }),
      }),
    );
  if (stimulus.tasks.length > 0)
    choices.push(
      fc.record({
        op: fc.constant('task' as const),
        name: fc.constantFrom(...stimulus.tasks.map((t) => t.name)),
        cpu,
      }),
    );
  if (stimulus.lifecycle)
    choices.push(
      fc.record({ op: fc.constant('cycle' as const), cpu, times: fc.integer({ min: 1, max: MAX_CYCLES }) }),
    );
  if (cpus > 1) {
    choices.push(fc.record({ op: fc.constant('down' as const), cpu }));
    choices.push(fc.record({ op: fc.constant('up' as const), cpu }));
  }
  return fc.oneof(...choices);
}

export function programArb(stimulus: Stimulus, cpus: number): fc.Arbitrary<ModuleProgram> {
  return fc.record({
    seed: fc.nat({ max: 2 ** 31 - 1 }),
    steps: fc.array(stepArb(stimulus, cpus), { minLength: 1, maxLength: MAX_STEPS }),
  });
}

export function describeStep(step: Step): string {
  switch (step.op) {
    case 'irq':
      return `raise irq ${step.irq} on CPU${step.cpu}`;
    case 'storm':
      return `CPU${step.cpu} raises irq ${step.irq} on every CPU in turn at its rate for ${step.us} us`;
    case 'task':
      return `start task ${step.name} on CPU${step.cpu}`;
    case 'cycle':
      return `remove → probe${(step.times ?? 1) > 1 ? ` ${step.times} times` : ''} on CPU${step.cpu}`;
    case 'down':
      return `CPU${step.cpu} down`;
    case 'up':
      return `CPU${step.cpu} up`;
    case 'delay':
      return `wait ${step.us} us`;
  }
}

export function renderProgram(program: ModuleProgram): string {
  return program.steps.map((s, i) => `    ${String(i + 1).padStart(2)}  ${describeStep(s)}`).join('\n');
}
