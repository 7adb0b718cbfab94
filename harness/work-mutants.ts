/**
 * Deliberately broken variants of the BH workqueue code (kernel/workqueue.ts). Each replaces one
 * entry of workOps at boot (mutant-preload.ts installs them by name) and breaks one of the
 * guarantees W1-W5 of docs/semantics.md §10.
 */
import { call_work_fn, claim_work, finish_work, pool_unlock, workOps } from '../kernel/workqueue.ts';
import { test_and_clear_bit } from '../shm/door.ts';
import { WK_STATE, WORK_STRUCT_PENDING } from '../shm/layout.ts';

export interface WorkMutant {
  description: string;
  /** The guarantees (W numbers in docs/semantics.md §10) it breaks. */
  breaks: number[];
  /** Only fuzz has an oracle for what it breaks: selftest, a stress sweep, leaves it out. */
  fuzzOnly?: boolean;
  install(): void;
}

export const WORK_MUTANTS: Record<string, WorkMutant> = {
  'work-reentrant': {
    description: 'queue_work puts a running work item on the calling CPU instead of the CPU that runs it',
    breaks: [1],
    install() {
      workOps.reentrancy_check = false;
    },
  },
  'work-cancel-no-wait': {
    description: 'cancel_work_sync and disable_work_sync do not wait for a run in progress',
    breaks: [2],
    install() {
      workOps.wait_running = () => {};
    },
  },
  'work-lost-wakeup': {
    description:
      'process_one_work does not wake the flushers and _sync cancellers of the run it finished (in the kernel they sleep for ever)',
    breaks: [3, 2],
    install() {
      workOps.wake_waiters = () => {};
    },
  },
  'work-flush-early': {
    description: 'flush_work waits only for a run in progress, not for the run a pending queueing asked for',
    breaks: [3],
    install() {
      workOps.flush_target = (_pending, started) => started;
    },
  },
  'work-pending-late': {
    description:
      'process_one_work clears PENDING after the function, not before it: a queue_work meanwhile returns false and its run is lost',
    breaks: [5],
    // Stress queues its items from anywhere at any time, with no record of the calls in flight
    // that fuzz's check needs; what it sees is a flush waiting for ever (a watchdog fault).
    fuzzOnly: true,
    install() {
      workOps.process_one_work = (pool, w, flags) => {
        claim_work(pool, w);
        pool_unlock(pool >> 1, flags);
        call_work_fn(w);
        test_and_clear_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE);
        return finish_work(pool, w);
      };
    },
  },
  'work-queue-while-disabled': {
    description: 'queueing ignores the disable depth: a disabled work item is queued and runs',
    breaks: [4],
    install() {
      workOps.disabled = () => false;
    },
  },
};

export const WORK_MUTANT_NAMES = Object.keys(WORK_MUTANTS);
