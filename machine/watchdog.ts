/**
 * The lockup detectors, run by the controller over shared memory (a CPU stuck in a JavaScript
 * loop cannot report itself):
 * - soft lockup (kernel/watchdog.c): an online CPU whose heartbeat did not move for
 *   `watchdog_thresh` seconds. The CPU loop bumps it every pass, waits bump it every spin and
 *   every wake-up, and an idle CPU wakes at least once a tick, so only code that never returns
 *   (a callback, handler or task in an endless loop) stops it. Unlike the kernel (2 ×
 *   watchdog_thresh) the report comes after watchdog_thresh itself.
 * - hung task (kernel/hung_task.c): a task that sat in one tasklet wait (C_WAIT_*) for
 *   `hung_task_timeout_secs`, e.g. tasklet_kill of a disabled, scheduled tasklet.
 * Each CPU is reported once; what to do next (stop the machine) is the caller's business.
 */

import { read_comm } from '../shm/comm.ts';
import {
  C_CURRENT_PID,
  C_HEARTBEAT,
  C_STATE,
  C_WAIT_KIND,
  C_WAIT_PID,
  C_WAIT_SINCE,
  C_WAIT_TASKLET,
  CpuState,
  type MachineMemory,
  WaitKind,
} from '../shm/layout.ts';
import { MachineView, stateFlags } from './view.ts';

export interface WatchdogOptions {
  /** Seconds without a heartbeat before a soft lockup is reported; 0 turns it off. */
  watchdogThresh: number;
  /** Seconds in one wait before a hung task is reported; 0 turns it off. */
  hungTaskTimeout: number;
}

export interface LockupReport {
  kind: 'soft-lockup' | 'hung-task';
  cpu: number;
  /** The kernel-style lines, ready to print. */
  message: string;
}

export interface WatchdogHooks {
  /** Whether a CPU's worker still runs (a dead one is somebody else's report). */
  alive: (cpu: number) => boolean;
  /** A tasklet's name by table id (static names are known to the controller). */
  taskletName: (id: number) => string;
  onLockup: (report: LockupReport) => void;
}

/** How waits read in a report: the call that waits and the bit it waits for. */
const WAITS: Record<number, { call: string; bit: string }> = {
  [WaitKind.TaskletRunClear]: { call: 'tasklet_disable/tasklet_unlock_wait', bit: 'RUN' },
  [WaitKind.TaskletSchedClear]: { call: 'tasklet_kill', bit: 'SCHED' },
  [WaitKind.TaskletSpin]: {
    call: 'tasklet_unlock_spin_wait/tasklet_disable_in_atomic (spinning)',
    bit: 'RUN',
  },
  [WaitKind.Event]: { call: 'wait_event', bit: '' },
};

interface CpuWatch {
  heartbeat: number;
  heartbeatSince: number;
  /** The wait this CPU was in at the last check (kind, pid, tasklet), and since when. */
  wait: string;
  waitSince: number;
  reported: boolean;
}

export class Watchdog {
  private readonly cpus: CpuWatch[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly memory: MachineMemory,
    private readonly nrCpus: number,
    private readonly options: WatchdogOptions,
    private readonly hooks: WatchdogHooks,
  ) {}

  /** Checks a few times per threshold; the timer does not keep the process alive. */
  start(): void {
    const limits = [this.options.watchdogThresh, this.options.hungTaskTimeout].filter((s) => s > 0);
    if (limits.length === 0) return;
    const now = performance.now();
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      this.cpus.push({
        heartbeat: this.word(cpu, C_HEARTBEAT),
        heartbeatSince: now,
        wait: '',
        waitSince: now,
        reported: false,
      });
    }
    const periodMs = Math.min(500, Math.max(20, (Math.min(...limits) * 1000) / 10));
    this.timer = setInterval(() => this.check(performance.now()), periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private word(cpu: number, offset: number): number {
    return Atomics.load(this.memory.mem, this.memory.layout.cpu(cpu) + offset);
  }

  check(now: number): void {
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      const watch = this.cpus[cpu];
      const heartbeat = this.word(cpu, C_HEARTBEAT);
      // An offline or dead CPU is not locked up; its clock restarts when it comes back.
      if (watch.reported || !this.hooks.alive(cpu) || this.word(cpu, C_STATE) !== CpuState.Online) {
        watch.heartbeat = heartbeat;
        watch.heartbeatSince = now;
        continue;
      }
      if (heartbeat !== watch.heartbeat) {
        watch.heartbeat = heartbeat;
        watch.heartbeatSince = now;
      } else if (
        this.options.watchdogThresh > 0 &&
        now - watch.heartbeatSince >= this.options.watchdogThresh * 1000
      ) {
        this.report(cpu, 'soft-lockup', this.softLockup(cpu, now - watch.heartbeatSince));
        continue;
      }
      this.checkWait(cpu, watch, now);
    }
  }

  private checkWait(cpu: number, watch: CpuWatch, now: number): void {
    const kind = this.word(cpu, C_WAIT_KIND);
    // One wait is one (kind, pid, tasklet, start jiffies): back-to-back waits are different ones.
    const wait =
      kind === WaitKind.None
        ? ''
        : [kind, C_WAIT_PID, C_WAIT_TASKLET, C_WAIT_SINCE]
            .map((w, i) => (i === 0 ? w : this.word(cpu, w)))
            .join(':');
    if (wait !== watch.wait) {
      watch.wait = wait;
      watch.waitSince = now;
    } else if (
      wait !== '' &&
      this.options.hungTaskTimeout > 0 &&
      now - watch.waitSince >= this.options.hungTaskTimeout * 1000
    ) {
      this.report(cpu, 'hung-task', this.hungTask(cpu, kind));
    }
  }

  private report(cpu: number, kind: LockupReport['kind'], message: string): void {
    this.cpus[cpu].reported = true;
    this.hooks.onLockup({ kind, cpu, message });
  }

  /** `watchdog: BUG: soft lockup - CPU#1 stuck for 2s! [ksoftirqd/1:11]` */
  private softLockup(cpu: number, stuckMs: number): string {
    const pid = this.word(cpu, C_CURRENT_PID);
    return `watchdog: BUG: soft lockup - CPU#${cpu} stuck for ${Math.round(stuckMs / 1000)}s! [${this.comm(cpu, pid)}:${pid}]`;
  }

  /** `INFO: task insmod:1001 blocked for more than 2 seconds.` and what it waits on. */
  private hungTask(cpu: number, kind: WaitKind): string {
    const pid = this.word(cpu, C_WAIT_PID);
    const lines = [
      `INFO: task ${this.comm(cpu, pid)}:${pid} blocked for more than ${this.options.hungTaskTimeout} seconds.`,
    ];
    const how = WAITS[kind] ?? { call: `wait kind ${kind}`, bit: '' };
    const id = this.word(cpu, C_WAIT_TASKLET) - 1;
    if (id >= 0 && how.bit !== '') {
      const t = new MachineView(this.memory).tasklet(id);
      lines.push(
        `      CPU${cpu}: in ${how.call}, waiting for ${how.bit} of tasklet ${this.hooks.taskletName(id)} to clear (state ${stateFlags(t.state)}, disable count ${t.count})`,
      );
    } else {
      lines.push(`      CPU${cpu}: in ${how.call}`);
    }
    lines.push('      "--hung-task-timeout 0" disables this message.');
    return lines.join('\n');
  }

  /** The comm a CPU's task published when it was created (pid 0 is that CPU's idle task). */
  private comm(cpu: number, pid: number): string {
    return pid === 0 ? `swapper/${cpu}` : (read_comm(this.memory, pid) ?? '?');
  }
}
