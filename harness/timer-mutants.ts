/**
 * Deliberately broken variants of the kernel timer code (kernel/timer.ts). Each replaces one
 * entry of timerOps at boot (mutant-preload.ts installs them by name, like the tasklet mutants),
 * and breaks at least one of the guarantees T1-T6 of docs/semantics.md §8.
 */
import { time_after_eq } from '../kernel/tick.ts';
import { base_lock, base_unlock, call_timer_fn, timerOps, unlink } from '../kernel/timer.ts';
import { READ_ONCE, WRITE_ONCE } from '../shm/door.ts';
import { C_RUNNING_TIMER, TM_LIST } from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';

export interface TimerMutant {
  description: string;
  /** The guarantees (T numbers in docs/semantics.md §8) it breaks. */
  breaks: number[];
  /** It shows only when CPUs go offline: selftest runs it with hotplug. */
  needsHotplug?: boolean;
  install(): void;
}

export const TIMER_MUTANTS: Record<string, TimerMutant> = {
  'timer-detach-after-run': {
    description:
      'run_timer_softirq runs the callback while the timer is still pending and detaches it afterwards (a re-arm from the callback is lost)',
    breaks: [4],
    install() {
      timerOps.expire_timer = (cpu, t, flags, now) => {
        const base = shm.layout.cpu(cpu);
        WRITE_ONCE(base + C_RUNNING_TIMER, t.ptr);
        base_unlock(cpu, flags);
        call_timer_fn(t, now);
        const again = base_lock(cpu);
        if (READ_ONCE(t.addr + TM_LIST) !== 0) unlink(t);
        WRITE_ONCE(base + C_RUNNING_TIMER, 0);
        return again;
      };
    },
  },
  'timer-del-sync-no-wait': {
    description: 'del_timer_sync does not wait for a callback that is running on another CPU',
    breaks: [3],
    install() {
      const tryDel = timerOps.try_to_del_sync;
      timerOps.try_to_del_sync = (t) => {
        const ret = tryDel(t);
        return Math.max(ret, 0);
      };
    },
  },
  'timer-migrate-running': {
    description: 'mod_timer moves a timer to the calling CPU even while its callback runs on its base',
    breaks: [1],
    install() {
      timerOps.may_migrate = () => true;
    },
  },
  'timer-early': {
    description: 'run_timer_softirq also runs timers that expire at the next jiffy',
    breaks: [2],
    install() {
      timerOps.due = (now, expires) => time_after_eq(now + 1, expires);
    },
  },
  'timer-pending-lost': {
    description:
      'detach_if_pending deactivates a pending timer but reports it idle: mod_timer, del_timer and del_timer_sync return 0 (and mod_timer_pending drops the timer)',
    breaks: [6, 4],
    install() {
      const detach = timerOps.detach_if_pending;
      timerOps.detach_if_pending = (t) => {
        detach(t);
        return false;
      };
    },
  },
  'timer-no-takeover': {
    description: 'a CPU going offline leaves its pending timers on its base (nobody adopts them)',
    breaks: [5],
    needsHotplug: true,
    install() {
      timerOps.dead_cpu = () => {};
    },
  },
};

export const TIMER_MUTANT_NAMES = Object.keys(TIMER_MUTANTS);
