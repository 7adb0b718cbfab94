/**
 * Module fuzz programs: sequences of the module's own entry points, made by the controller at
 * its points of control (so a controlled run places each at the same decision every time):
 * raise one of its declared lines on a CPU, start one of its declared tasks on a CPU, a remove →
 * probe cycle on a CPU, take a CPU down or bring it back, let some machine time pass.
 * Generated with fast-check from the declaration, and shrunk by fast-check.
 */
import fc from 'fast-check';
import type { Stimulus } from './stimulus.ts';

export type Step =
  | { op: 'irq'; irq: number; cpu: number }
  | { op: 'task'; name: string; cpu: number }
  | { op: 'cycle'; cpu: number }
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
  if (stimulus.tasks.length > 0)
    choices.push(
      fc.record({
        op: fc.constant('task' as const),
        name: fc.constantFrom(...stimulus.tasks.map((t) => t.name)),
        cpu,
      }),
    );
  if (stimulus.lifecycle) choices.push(fc.record({ op: fc.constant('cycle' as const), cpu }));
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
    case 'task':
      return `start task ${step.name} on CPU${step.cpu}`;
    case 'cycle':
      return `remove → probe on CPU${step.cpu}`;
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
