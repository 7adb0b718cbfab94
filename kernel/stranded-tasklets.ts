/**
 * A check the kernel does not make, beside can_stop_idle_tick's (report_idle_softirq): a CPU
 * that goes idle must not hold queued tasklets with their softirq not pending. Only this CPU
 * appends to its queues, and every append raises the vector (schedule, requeue, takeover), so
 * such tasklets were stranded by a missing raise: nothing runs them until something else raises
 * that vector on this CPU, which under steady traffic comes soon and hides the bug.
 */
import { plain_read } from '../shm/door.ts';
import { C_HI_HEAD, C_SOFTIRQ_PENDING, C_VEC_HEAD } from '../shm/layout.ts';
import { this_cpu } from './percpu.ts';
import { pr_warn } from './printk.ts';
import { HI_SOFTIRQ, softirq_to_name, TASKLET_SOFTIRQ } from './softirq.ts';

// The kernel's queue-to-vector mapping, not tasklet.ts's queue objects: the check judges the
// runtime against the kernel, so it does not take its expectation from the code it checks.
const QUEUES = [
  { name: 'tasklet_hi_vec', head: C_HI_HEAD, softirq: HI_SOFTIRQ },
  { name: 'tasklet_vec', head: C_VEC_HEAD, softirq: TASKLET_SOFTIRQ },
] as const;

/** As many reports as can_stop_idle_tick gives. */
const MAX_REPORTS = 10;
let reports = 0;
/** The queues found stranded at the last look (one bit per softirq): each stranding is told once. */
let stranded = 0;

/** Called as the CPU idles (or sleeps in a wait, where the kernel's idle task would run). Quiet reads. */
export function report_stranded_tasklets(): void {
  if (reports >= MAX_REPORTS) return;
  const base = this_cpu.base;
  const pending = plain_read(base + C_SOFTIRQ_PENDING);
  for (const queue of QUEUES) {
    const bit = 1 << queue.softirq;
    if (plain_read(base + queue.head) === 0 || (pending & bit) !== 0) {
      stranded &= ~bit;
      continue;
    }
    if ((stranded & bit) !== 0) continue;
    stranded |= bit;
    reports++;
    pr_warn(
      `softirq: CPU${this_cpu.id} idles with tasklets on its ${queue.name} and ${softirq_to_name[queue.softirq]}_SOFTIRQ not pending: no pass will take them until something raises it`,
    );
  }
}
