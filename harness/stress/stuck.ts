/**
 * What a stress machine that stopped making progress is stuck on, when that breaks a
 * guarantee rather than being a plain hang: a broken queue, a kill that waits on a tasklet no
 * pass will run, or on a disable count that lost an update.
 */
import { confirmed, findingViolation, linkLoopMessage } from '../oracles/findings.ts';
import { violation } from '../oracles/guarantees.ts';
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
  const lost = workload.countOffBounds(view);
  if (lost !== null) verdicts.violation(lost);
  for (const finding of view.findings(ids)) {
    if (finding.kind === 'queue-cycle' || finding.kind === 'queued-twice') {
      verdicts.violation(findingViolation(finding, workload.names)!);
    } else if (finding.kind === 'stuck-waiter' && verdicts.violations.length === 0) {
      const v = findingViolation(finding, workload.names);
      if (v !== null && (await confirmed(view, machine, finding))) verdicts.violation(v);
    }
  }
}
