/**
 * What the kernel's lists say: a stale tasklet queue tail, a broken timer list or worklist
 * (findings.ts, bh-structure.ts). Read from a live machine without its locks, a finding counts
 * only if a second look finds it too: at a drain a millisecond of machine time later (a list
 * being updated is whole again by then); at a hang or a fault right after (the machine may be
 * stopped in the middle of an update, and a hang names no cause by itself: such a list often is it).
 */
import type { MachineView } from '../../machine/view.ts';
import type { MachineMemory } from '../../shm/layout.ts';
import { bhStructureFinding } from './bh-structure.ts';
import type { MachineClock } from './drain.ts';
import { staleTailFinding, type TaskletNames } from './findings.ts';
import type { Violation } from './guarantees.ts';

const listsFinding = (view: MachineView, memory: MachineMemory, names: TaskletNames): Violation | null =>
  staleTailFinding(view, names) ?? bhStructureFinding(memory);

/** On a drained machine: the first broken list, confirmed a millisecond later, or null. */
export async function listsViolation(
  view: MachineView,
  memory: MachineMemory,
  names: TaskletNames,
  clock: MachineClock,
): Promise<Violation | null> {
  const first = listsFinding(view, memory, names);
  if (first === null) return null;
  await clock.sleep(1);
  const again = listsFinding(view, memory, names);
  return again !== null && again.message === first.message ? again : null;
}

/** At a hang or a fault: the first broken list, read twice in a row, or null. */
export function listsAtFault(
  view: MachineView,
  memory: MachineMemory,
  names: TaskletNames,
): Violation | null {
  const first = listsFinding(view, memory, names);
  const again = first === null ? null : listsFinding(view, memory, names);
  return again !== null && again.message === first!.message ? again : null;
}
