/**
 * At a hang or a fault, what the kernel's lists say: a stale tasklet queue tail, a broken timer
 * list or worklist. A hang names no cause by itself, and such a list is often it (a work item
 * appended where no worker looks leaves its flusher waiting for ever). The machine may be stopped
 * in the middle of an update, so a finding counts only if a second read right after finds it too.
 */
import type { MachineView } from '../../machine/view.ts';
import type { MachineMemory } from '../../shm/layout.ts';
import { bhStructureFinding } from './bh-structure.ts';
import { staleTailFinding, type TaskletNames } from './findings.ts';
import type { Violation } from './guarantees.ts';

export function listsAtFault(
  view: MachineView,
  memory: MachineMemory,
  names: TaskletNames,
): Violation | null {
  const read = (): Violation | null => staleTailFinding(view, names) ?? bhStructureFinding(memory);
  const first = read();
  const again = first === null ? null : read();
  return again !== null && again.message === first!.message ? again : null;
}
