/**
 * What a stress machine that stopped making progress is stuck on, when that breaks a
 * guarantee rather than being a plain hang: a broken queue, a kill that waits on a tasklet no
 * pass will run, or on a disable count that lost an update.
 */
import type { MachineView } from '../../machine/view.ts';
import { WaitKind } from '../../shm/layout.ts';
import { first_count_off_bounds } from '../oracles/disable-count.ts';
import { confirmed, findingViolation, linkLoopMessage } from '../oracles/findings.ts';
import { type Violation, violation } from '../oracles/guarantees.ts';
import type { StressContext } from './context.ts';

/**
 * While the tasks do not ack, or a CPU does not go down: a looping queue, a tasklet on two
 * queues, a lost update of a disable count, or a CPU sleeping in tasklet_kill on a tasklet that
 * has SCHED set and that no pass will ever run: on no queue and not running (its pending run
 * was lost), or stranded on a queue whose softirq is not raised.
 */
export async function reportStuck({ view, workload, verdicts, machine }: StressContext): Promise<void> {
  const ids = workload.ids();
  const looped = view.linkCycle(ids);
  if (looped >= 0) {
    const i = workload.names.index(looped);
    verdicts.violation(violation('structure', i, [], linkLoopMessage(workload.names.name(i))));
    return;
  }
  const lost =
    lostCountUpdate(view, workload) ??
    first_count_off_bounds(workload.sh, ids.length, workload.names.name, (i) => view.tasklet(ids[i]).count);
  if (lost !== null) verdicts.violation(lost);
  for (const finding of view.findings(workload.ids())) {
    if (finding.kind === 'queue-cycle' || finding.kind === 'queued-twice') {
      verdicts.violation(findingViolation(finding, workload.names)!);
    } else if (finding.kind === 'stuck-waiter' && verdicts.violations.length === 0) {
      const v = findingViolation(finding, workload.names);
      if (v !== null && (await confirmed(view, machine, finding))) verdicts.violation(v);
    }
  }
}

/**
 * A kill holds its tasklet alone (control and exclusivity: no other disabler may touch it, none
 * is in flight) and disables nothing itself, so the disable count must be 0 while it waits. A
 * kill that waits on a count off 0 there waits on a lost update of the count (G8).
 */
function lostCountUpdate(view: MachineView, workload: StressContext['workload']): Violation | null {
  for (const waiter of view.waiters()) {
    if (waiter.kind !== WaitKind.TaskletSchedClear) continue;
    const i = workload.names.index(waiter.tasklet);
    if (i < 0 || !workload.heldAlone(i, waiter.cpu)) continue;
    const { count } = view.tasklet(waiter.tasklet);
    if (count === 0) continue;
    return violation(
      'disabled',
      i,
      [waiter.cpu],
      `${workload.names.name(i)}'s disable count is ${count} while tasklet_kill on CPU${waiter.cpu} holds it alone, every disable of it matched by an enable: an update of the count was lost (the kill waits forever)`,
    );
  }
  return null;
}
