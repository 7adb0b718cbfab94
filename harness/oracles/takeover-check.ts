/**
 * G4 at a hot-unplug, on the heir (CPU side): takeover_tasklets appends the dead CPU's queues to
 * this CPU's and must raise both vectors, or what it adopted waits for whatever raises them next.
 * Under steady traffic that comes soon, so the drain never sees it; here it is judged the moment
 * the takeover is done: a queue of this CPU that holds tasklets has its softirq pending. (An
 * interrupt after the takeover ran its softirqs in full, leaving a queue that is empty, or
 * re-raised for what it put back.)
 */
import { HI_SOFTIRQ, TASKLET_SOFTIRQ } from 'tasklet-rt';
import { this_cpu } from '../../kernel/percpu.ts';
import { local_softirq_pending } from '../../kernel/softirq.ts';
import { attach_tracepoint } from '../../kernel/trace.ts';
import { C_HI_HEAD, C_VEC_HEAD } from '../../shm/layout.ts';
import { shm } from '../../shm/memory.ts';
import { type Violation, violation } from './guarantees.ts';

const QUEUES = [
  [C_VEC_HEAD, TASKLET_SOFTIRQ, 'tasklet_vec', 'TASKLET_SOFTIRQ'],
  [C_HI_HEAD, HI_SOFTIRQ, 'tasklet_hi_vec', 'HI_SOFTIRQ'],
] as const;

/** Once per CPU (cpu_init): `report` gets the violation when a takeover leaves a queue unraised. */
export function install_takeover_check(report: (v: Violation) => void): void {
  attach_tracepoint('tasklet_takeover', (dead) => {
    for (const [head, vec, queue, softirq] of QUEUES) {
      if (Atomics.load(shm.mem, this_cpu.base + head) === 0 || (local_softirq_pending() & (1 << vec)) !== 0)
        continue;
      report(
        violation(
          'at-least-once',
          -1,
          [this_cpu.id],
          `takeover_tasklets adopted CPU${dead}'s queues, but CPU${this_cpu.id}'s ${queue} holds tasklets with ${softirq} not raised: they wait for whatever raises it next`,
        ),
      );
    }
  });
}
