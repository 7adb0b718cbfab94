/**
 * Deliberately broken variants of the tasklet algorithm. Each replaces one entry of taskletOps
 * or softirqOps at boot (see mutant-preload.ts), so the correct code carries no test branches.
 * Each breaks at least one guarantee of docs/semantics.md; the oracles must notice.
 */

import { nr_cpu_ids } from '../kernel/cpumask.ts';
import { hotplugOps } from '../kernel/hotplug.ts';
import {
  local_irq_disable,
  local_irq_enable,
  local_irq_restore,
  local_irq_save,
} from '../kernel/irqflags.ts';
import { this_cpu } from '../kernel/percpu.ts';
import { SOFTIRQ_OFFSET } from '../kernel/preempt.ts';
import { raise_softirq_irqoff, softirqOps } from '../kernel/softirq.ts';
import {
  queue_append,
  queue_splice,
  requeue,
  run_tasklet,
  tasklet_clear_sched,
  tasklet_trylock,
  tasklet_unlock,
  taskletOps,
} from '../kernel/tasklet.ts';
import { tasklet_from_ptr } from '../kernel/tasklet-table.ts';
import { trace } from '../kernel/trace.ts';
import { might_sleep, sleep_until_clear } from '../kernel/wait.ts';
import {
  atomic_read,
  READ_ONCE,
  set_bit,
  test_and_clear_bit,
  test_and_set_bit,
  test_bit,
  WRITE_ONCE,
} from '../shm/door.ts';
import { T_COUNT, T_NEXT, T_STATE, TASKLET_STATE_RUN, TASKLET_STATE_SCHED, WaitKind } from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';

export interface Mutant {
  description: string;
  /** The guarantees (G numbers in docs/semantics.md) it breaks. */
  breaks: number[];
  /** It shows only when CPUs go offline: selftest runs it with hotplug. */
  needsHotplug?: boolean;
  install(): void;
}

type Queue = Parameters<typeof taskletOps.schedule_common>[1];
type Tasklet = ReturnType<typeof tasklet_from_ptr>;

/** `t` at the head of the given CPU's queue instead of its tail (interrupts off). */
function queue_prepend(cpuBase: number, queue: Queue, t: Tasklet): void {
  const head = cpuBase + queue.head;
  const first = READ_ONCE(head);
  WRITE_ONCE(t.addr + T_NEXT, first);
  WRITE_ONCE(head, t.ptr);
  if (first === 0) WRITE_ONCE(head + 1, t.addr + T_NEXT);
}

/** The correct handling of one spliced entry, with the requeue made by `back` and the RUN lock by `trylock`. */
function runOrRequeue(
  t: Tasklet,
  queue: Queue,
  back: (t: Tasklet, queue: Queue) => void,
  trylock: (t: Tasklet) => boolean = tasklet_trylock,
): void {
  if (trylock(t)) {
    if (atomic_read(t.addr + T_COUNT) === 0) {
      if (tasklet_clear_sched(t)) run_tasklet(t);
      tasklet_unlock(t);
      return;
    }
    tasklet_unlock(t);
  }
  back(t, queue);
}

/** Splices the queue out like the real action; `body` handles each entry. */
function forEachSpliced(queue: Queue, body: (t: ReturnType<typeof tasklet_from_ptr>) => void): void {
  let list = queue_splice(queue);
  while (list !== 0) {
    const t = tasklet_from_ptr(list);
    list = READ_ONCE(t.addr + T_NEXT);
    body(t);
  }
}

export const MUTANTS: Record<string, Mutant> = {
  'no-sched-bit': {
    description: 'tasklet_schedule tests and sets SCHED with a plain read and a plain write',
    breaks: [2, 11],
    install() {
      const enqueue = taskletOps.schedule_common;
      taskletOps.schedule = (t, queue) => {
        const state = READ_ONCE(t.addr + T_STATE);
        if ((state & (1 << TASKLET_STATE_SCHED)) !== 0) return;
        WRITE_ONCE(t.addr + T_STATE, READ_ONCE(t.addr + T_STATE) | (1 << TASKLET_STATE_SCHED));
        enqueue(t, queue);
      };
    },
  },
  'no-run-lock': {
    description: 'tasklet_action runs the callback without taking the RUN bit',
    breaks: [1],
    install() {
      taskletOps.action_common = (queue) =>
        forEachSpliced(queue, (t) => {
          if (atomic_read(t.addr + T_COUNT) === 0) {
            if (tasklet_clear_sched(t)) run_tasklet(t);
          } else {
            requeue(t, queue);
          }
        });
    },
  },
  'racy-trylock': {
    description:
      "tasklet_action's trylock tests RUN, then sets it: a tasklet_trylock on another CPU in between also wins",
    breaks: [1],
    install() {
      const racyTrylock = (t: Tasklet): boolean => {
        if (test_bit(TASKLET_STATE_RUN, t.addr + T_STATE)) return false;
        set_bit(TASKLET_STATE_RUN, t.addr + T_STATE);
        return true;
      };
      taskletOps.action_common = (queue) =>
        forEachSpliced(queue, (t) => runOrRequeue(t, queue, requeue, racyTrylock));
    },
  },
  'clear-sched-after-run': {
    description: 'tasklet_action clears SCHED after the callback instead of before it',
    breaks: [3, 4],
    install() {
      taskletOps.action_common = (queue) =>
        forEachSpliced(queue, (t) => {
          if (tasklet_trylock(t)) {
            if (atomic_read(t.addr + T_COUNT) === 0) {
              run_tasklet(t);
              test_and_clear_bit(TASKLET_STATE_SCHED, t.addr + T_STATE);
              tasklet_unlock(t);
              return;
            }
            tasklet_unlock(t);
          }
          requeue(t, queue);
        });
    },
  },
  'no-unlock-wait': {
    description: 'tasklet_disable (and tasklet_unlock_wait) return without waiting for RUN to clear',
    breaks: [9],
    install() {
      taskletOps.unlock_wait = () => {};
    },
  },
  'no-irq-save': {
    description: 'tasklet_schedule appends to the queue with interrupts enabled',
    breaks: [4, 11],
    install() {
      taskletOps.schedule_common = (t, queue) => {
        queue_append(this_cpu.base, queue, t);
        raise_softirq_irqoff(queue.softirq);
      };
    },
  },
  'no-count-check': {
    description: 'tasklet_action runs a tasklet even while it is disabled',
    breaks: [8],
    install() {
      taskletOps.action_common = (queue) =>
        forEachSpliced(queue, (t) => {
          if (tasklet_trylock(t)) {
            if (tasklet_clear_sched(t)) run_tasklet(t);
            tasklet_unlock(t);
            return;
          }
          requeue(t, queue);
        });
    },
  },
  'lossy-disable-count': {
    description:
      'tasklet_disable_nosync raises the disable count by a read and a write, not atomic_inc (two racing disables lose one)',
    breaks: [8],
    install() {
      taskletOps.disable_count = (t) => WRITE_ONCE(t.addr + T_COUNT, READ_ONCE(t.addr + T_COUNT) + 1);
    },
  },
  'kill-no-wait': {
    description: 'tasklet_kill clears SCHED and returns without waiting for the pending run',
    breaks: [10],
    install() {
      taskletOps.kill = (t) => {
        test_and_clear_bit(TASKLET_STATE_SCHED, t.addr + T_STATE);
      };
    },
  },
  'kill-no-wake': {
    description:
      'tasklet_kill clears SCHED at its end without wake_up_var (a second kill waiting for SCHED sleeps forever)',
    breaks: [10],
    install() {
      // The correct kill, less the wake-up in its tasklet_clear_sched.
      taskletOps.kill = (t) => {
        const mayBlock = might_sleep('tasklet_kill');
        while (test_and_set_bit(TASKLET_STATE_SCHED, t.addr + T_STATE))
          sleep_until_clear(t, TASKLET_STATE_SCHED, WaitKind.TaskletSchedClear, mayBlock);
        taskletOps.unlock_wait(t, mayBlock);
        test_and_clear_bit(TASKLET_STATE_SCHED, t.addr + T_STATE);
      };
    },
  },
  'hi-after-normal': {
    description: 'a softirq pass runs TASKLET_SOFTIRQ before HI_SOFTIRQ',
    breaks: [7],
    install() {
      const order = softirqOps.order.filter((nr) => nr !== 0);
      order.splice(order.indexOf(6) + 1, 0, 0);
      softirqOps.order = order;
    },
  },
  'two-runs-per-pass': {
    description: 'tasklet_action goes through the queue a second time, running what was queued meanwhile',
    breaks: [6],
    install() {
      taskletOps.action_common = (queue) => {
        forEachSpliced(queue, (t) => runOrRequeue(t, queue, requeue));
        forEachSpliced(queue, (t) => runOrRequeue(t, queue, requeue));
      };
    },
  },
  'lifo-queue': {
    description: "tasklet_schedule puts the tasklet at the head of this CPU's queue (LIFO)",
    breaks: [7],
    install() {
      // Interrupts saved and restored as the real one does: an enable inside an interrupt
      // handler would let a second one nest, a bug of its own.
      taskletOps.schedule_common = (t, queue) => {
        const flags = local_irq_save();
        queue_prepend(this_cpu.base, queue, t);
        raise_softirq_irqoff(queue.softirq);
        local_irq_restore(flags);
      };
    },
  },
  'requeue-to-head': {
    description: 'tasklet_action puts a tasklet it cannot run back at the head of the queue, not the tail',
    breaks: [7],
    install() {
      taskletOps.action_common = (queue) =>
        forEachSpliced(queue, (t) =>
          runOrRequeue(t, queue, (u, q) => {
            local_irq_disable();
            queue_prepend(this_cpu.base, q, u);
            raise_softirq_irqoff(q.softirq);
            local_irq_enable();
          }),
        );
    },
  },
  'run-without-sched': {
    description: 'tasklet_action runs a queued tasklet whose SCHED bit is clear, without a warning',
    breaks: [12],
    install() {
      taskletOps.action_common = (queue) =>
        forEachSpliced(queue, (t) => {
          if (tasklet_trylock(t)) {
            if (atomic_read(t.addr + T_COUNT) === 0) {
              test_and_clear_bit(TASKLET_STATE_SCHED, t.addr + T_STATE);
              run_tasklet(t);
              tasklet_unlock(t);
              return;
            }
            tasklet_unlock(t);
          }
          requeue(t, queue);
        });
    },
  },
  'no-restart-limit': {
    description: 'handle_softirqs restarts 1000 times instead of MAX_SOFTIRQ_RESTART (10)',
    breaks: [13],
    install() {
      softirqOps.maxRestart = 1000;
    },
  },
  'no-ksoftirqd-wakeup': {
    description: 'handle_softirqs leaves the work it defers at a bound without waking ksoftirqd',
    breaks: [13],
    install() {
      softirqOps.defer = () => {};
    },
  },
  'ksoftirqd-no-softirq-offset': {
    description:
      'ksoftirqd runs handle_softirqs without the softirq count, so callbacks there are not in softirq context',
    breaks: [14],
    install() {
      softirqOps.servingOffset = (ksirqd) => (ksirqd ? 0 : SOFTIRQ_OFFSET);
    },
  },
  'double-entry-trace': {
    description: 'tasklet_action emits tasklet_entry once more before the callback (a misplaced tracepoint)',
    breaks: [15],
    install() {
      taskletOps.action_common = (queue) =>
        forEachSpliced(queue, (t) => {
          if (tasklet_trylock(t)) {
            if (atomic_read(t.addr + T_COUNT) === 0) {
              if (tasklet_clear_sched(t)) {
                trace.tasklet_entry?.(t.id);
                run_tasklet(t);
              }
              tasklet_unlock(t);
              return;
            }
            tasklet_unlock(t);
          }
          requeue(t, queue);
        });
    },
  },
  'no-time-limit': {
    description: 'handle_softirqs restarts for 1000 ms instead of MAX_SOFTIRQ_TIME (2 ms)',
    breaks: [13],
    install() {
      softirqOps.maxTimeMs = 1000;
    },
  },
  'takeover-stale-tail': {
    description:
      "takeover_tasklets empties the dead CPU's queues but leaves their tails: after its bring-up, the first tasklet_schedule there appends where no pass looks",
    // G4: that tasklet is lost; G11: the queue's tail is off its end.
    breaks: [4, 11],
    needsHotplug: true,
    install() {
      hotplugOps.reset_dead_queue = (deadHead) => WRITE_ONCE(deadHead, 0);
    },
  },
  'wrong-cpu': {
    description: "tasklet_schedule appends to the next CPU's queue instead of this CPU's",
    // G4 too: it raises the softirq here, so nothing may ever pass over the other CPU's queue.
    breaks: [4, 5, 11],
    install() {
      taskletOps.schedule_common = (t, queue) => {
        const flags = local_irq_save();
        const other = (this_cpu.id + 1) % nr_cpu_ids();
        queue_append(shm.layout.cpu(other), queue, t);
        raise_softirq_irqoff(queue.softirq);
        local_irq_restore(flags);
      };
    },
  },
};

export const MUTANT_NAMES = Object.keys(MUTANTS);
