/**
 * Runs the stress workload on a machine: epochs of free-running load, each ended by a drain
 * (no new work, every queue empties) where the drain-time oracles check every tasklet; optional
 * CPU hotplug cycles; a stats sample every second. Ends at the duration or the first violation.
 */
import { fileURLToPath } from 'node:url';
import type { ControlledOptions, ControlStats } from '../../control/driver.ts';
import { Machine, type OopsReport } from '../../machine/index.ts';
import {
  C_COALESCED,
  C_DISABLES,
  C_HI_HEAD,
  C_KILLS,
  C_REQUEUES,
  C_SCHEDULES,
  C_TASKLET_RUNS,
  C_VEC_HEAD,
  C_WAIT_KIND,
  C_WAIT_PID,
  C_WAIT_TASKLET,
  TASKLET_STATE_SCHED,
  WaitKind,
} from '../../shm/layout.ts';
import { injectMutant } from '../inject.ts';
import { Prng } from '../prng.ts';
import { shortHash } from '../schedule-report.ts';
import { type TraceFiles, traceWindow, writeTraceFiles } from '../trace/output.ts';
import type { TraceSummary } from '../trace/summary.ts';
import type { Mix } from './mix.ts';
import { at_drain, check_warnings, type Violation } from './oracles.ts';
import { walkQueues } from './queues.ts';
import {
  F_INSIDE,
  Phase,
  type RecentEvent,
  recent_events,
  S_DRAIN_ACK,
  S_EPOCH,
  S_FIRST_ID,
  S_PHASE,
  tw,
} from './shadow.ts';
import type { StressSetup } from './workload.ts';

const workloadModule = fileURLToPath(new URL('./workload.ts', import.meta.url));

export interface StressOptions {
  cpus: number;
  tasklets: number;
  durationMs: number;
  seed: number;
  mix: Mix;
  /** Hotplug period in ms: every period one CPU goes down or comes back; 0 = off. */
  hotplugMs: number;
  inject?: string;
  oracles: boolean;
  /** Length of a free-running epoch between drains. */
  epochMs?: number;
  delayUs?: number;
  reschedPct?: number;
  burst?: number;
  /** Trace events kept per CPU (0: no tracing); the first violation's report shows the last ones. */
  traceCapacity?: number;
  /** Where to write the whole trace at the end. */
  traceFiles?: TraceFiles;
  /** Carry on after an oops (it is counted, and the run still ends as a fault). */
  oopsContinue?: boolean;
  /** Controlled mode: one CPU at a time under a seeded strategy; epochs and hotplug in virtual time. */
  controlled?: ControlledOptions;
  /** Controlled mode: end the load after this many scheduling decisions (then drain). */
  stepLimit?: number;
}

/** What a controlled stress run did, and hashes to compare two runs by. */
export interface StressSchedule extends ControlStats {
  options: ControlledOptions;
  decisionsPerSecond: number;
  /** Of every event left in the trace rings. */
  traceHash: string;
  /** Of the decision log. */
  scheduleHash: string;
}

/** Enough per CPU for the window around a violation, small enough to cost little. */
export const WINDOW_TRACE_CAPACITY = 4096;
const TRACE_WINDOW_EVENTS = 24;

export interface CpuTotals {
  runs: number;
  schedules: number;
  coalesced: number;
  requeues: number;
  disables: number;
  kills: number;
}

export interface StatsSample {
  elapsedMs: number;
  perCpu: CpuTotals[];
  online: number[];
  violations: number;
}

export interface ViolationReport extends Violation {
  name: string;
  events: RecentEvent[];
  atMs: number;
  /** Machine time of the report, when a CPU made it. */
  machineMs?: number;
  /** The last trace events of the CPUs involved up to the report (ftrace lines), when tracing was on. */
  trace?: string[];
}

export type StressStatus = 'clean' | 'violation' | 'fault' | 'interrupted';

export interface StressResult {
  status: StressStatus;
  seed: number;
  options: StressOptions;
  elapsedMs: number;
  epochs: number;
  hotplugOps: number;
  violations: ViolationReport[];
  faults: string[];
  oopses: OopsReport[];
  totals: CpuTotals[];
  bootMs: number;
  schedule: StressSchedule | null;
  /** The trace files written (traceFiles), and how much of the run they hold. */
  trace: TraceSummary | null;
}

export interface StressHooks {
  /** Called about once a second. */
  onSample?: (sample: StatsSample) => void;
  /** Resolves when the run should stop early (SIGINT). */
  interrupted?: Promise<void>;
}

const COUNTERS: [keyof CpuTotals, number][] = [
  ['runs', C_TASKLET_RUNS],
  ['schedules', C_SCHEDULES],
  ['coalesced', C_COALESCED],
  ['requeues', C_REQUEUES],
  ['disables', C_DISABLES],
  ['kills', C_KILLS],
];

const DRAIN_ACK_TIMEOUT_MS = 15_000;
/** After this long without all acks, look for a waiter stuck on a lost tasklet. */
const LOST_CHECK_MS = 2_000;
/** A drain that makes no tasklet run for this long while work is left has a stuck tasklet. */
const DRAIN_STALL_MS = 2_000;
const DRAIN_IDLE_TIMEOUT_MS = 30_000;
/** Controlled mode: virtual time per turn of the main loop, so it still looks at the wall clock. */
const CONTROLLED_SLICE_MS = 5;

class StressRun {
  private readonly violations: ViolationReport[] = [];
  private readonly faults: string[] = [];
  private readonly oopses: OopsReport[] = [];
  /** When the workload started (after boot and setup): times in reports count from here. */
  private started = performance.now();
  /** Machine time when the workload started: epochs and hotplug count in it (virtual when controlled). */
  private machineStarted = 0;
  private readonly rng: Prng;
  private machine!: Machine;
  private sh!: Int32Array;
  private firstId = 0;
  private epochs = 0;
  private hotplugOps = 0;
  private stopping = false;
  private wake: () => void = () => {};

  constructor(
    private readonly options: StressOptions,
    private readonly hooks: StressHooks,
  ) {
    this.rng = new Prng(options.seed ^ 0x5eed);
  }

  private elapsed(): number {
    return performance.now() - this.started;
  }

  private machineElapsed(): number {
    return this.machine.now() - this.machineStarted;
  }

  private stepLimitReached(): boolean {
    const control = this.machine.control;
    return control !== null && control.stats().steps >= (this.options.stepLimit ?? Number.POSITIVE_INFINITY);
  }

  private stop(): void {
    this.stopping = true;
    this.wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private addViolation(v: Violation & { name?: string; events?: RecentEvent[] }): void {
    const events = v.events ?? (v.tasklet >= 0 ? recent_events(this.sh, v.tasklet) : []);
    this.violations.push({
      ...v,
      name: v.name ?? (v.tasklet >= 0 ? `stress${v.tasklet}` : ''),
      events,
      atMs: this.elapsed(),
    });
    this.stop();
  }

  async run(): Promise<StressResult> {
    const { options } = this;
    const traceCapacity = options.traceCapacity ?? WINDOW_TRACE_CAPACITY;
    this.machine = await Machine.boot({
      cpus: options.cpus,
      maxTasklets: Math.max(4096, options.tasklets + 64),
      modules: [workloadModule],
      controlled: options.controlled,
      ...injectMutant(options.inject),
      trace: traceCapacity > 0 ? { capacity: traceCapacity } : undefined,
      onPrintk: () => {},
      onReport: (_cpu, key, value) => {
        if (key === 'violation') this.addViolation(value as ViolationReport);
      },
      onOops: (oops) => {
        this.oopses.push(oops);
        if (options.oopsContinue) return; // counted in the report; the run is still a fault
        this.faults.push(`Oops on CPU${oops.cpu} in ${oops.context} (${oops.culprit}): ${oops.message}`);
        this.stop();
      },
      onFault: (fault) => {
        this.faults.push(fault.message);
        this.stop();
      },
    });
    const bootMs = this.machine.bootMs;
    let interrupted = false;
    let schedule: StressSchedule | null = null;
    this.hooks.interrupted?.then(() => {
      interrupted = true;
      this.stop();
    });
    try {
      this.sh = this.machine.sharedWords('stress-shadow');
      const setup: StressSetup = {
        tasklets: options.tasklets,
        seed: options.seed,
        delayUs: options.delayUs ?? 20,
        reschedPct: options.reschedPct ?? 30,
        burst: options.burst ?? 4,
        oracles: options.oracles,
      };
      this.machine.control?.setStepLimit(options.stepLimit ?? Number.POSITIVE_INFINITY);
      await this.machine.call(0, 'stress_setup', setup);
      this.firstId = Atomics.load(this.sh, S_FIRST_ID);
      this.started = performance.now();
      this.machineStarted = this.machine.now();
      for (let cpu = 0; cpu < options.cpus; cpu++)
        await this.machine.startTask(cpu, 'stress', { mix: options.mix });
      await this.mainLoop();
      this.machine.control?.setStepLimit(Number.POSITIVE_INFINITY); // the drain still has to run
      if (!this.stopping || this.violations.length === 0) await this.drain(true);
    } catch (error) {
      this.faults.push(error instanceof Error ? error.message : String(error));
    } finally {
      // Taken before the shutdown: stopping CPUs run free and trace on the real clock.
      schedule = this.schedule(this.elapsed());
      Atomics.store(this.sh, S_PHASE, Phase.Stop);
      await this.machine.shutdown();
    }
    const names = new Map(
      Array.from({ length: options.tasklets }, (_, i) => [this.firstId + i, `stress${i}`]),
    );
    const first = this.violations[0];
    if (first !== undefined && traceCapacity > 0) {
      first.trace = traceWindow(this.machine, first.cpus, TRACE_WINDOW_EVENTS, first.machineMs, names);
    }
    const trace =
      options.traceFiles === undefined ? null : writeTraceFiles(this.machine, options.traceFiles, names);
    if (this.oopses.length > 0 && this.faults.length === 0)
      this.faults.push(`${this.oopses.length} oops(es) while running (--oops=continue)`);
    const status: StressStatus =
      this.violations.length > 0
        ? 'violation'
        : this.faults.length > 0
          ? 'fault'
          : interrupted
            ? 'interrupted'
            : 'clean';
    return {
      status,
      seed: options.seed,
      options,
      elapsedMs: this.elapsed(),
      epochs: this.epochs,
      hotplugOps: this.hotplugOps,
      violations: this.violations,
      faults: this.faults,
      oopses: this.oopses,
      totals: this.totals(),
      bootMs,
      schedule,
      trace,
    };
  }

  private schedule(loadMs: number): StressSchedule | null {
    const control = this.machine.control;
    if (control === null || this.options.controlled === undefined) return null;
    const stats = control.stats();
    return {
      ...stats,
      options: this.options.controlled,
      decisionsPerSecond: stats.steps / Math.max(loadMs / 1000, 1e-3),
      traceHash: shortHash(this.machine.traceRecords()),
      scheduleHash: shortHash(control.log()),
    };
  }

  private totals(): CpuTotals[] {
    const totals: CpuTotals[] = [];
    for (let cpu = 0; cpu < this.options.cpus; cpu++) {
      const t = {} as CpuTotals;
      for (const [key, offset] of COUNTERS) t[key] = this.machine.cpuWord(cpu, offset) >>> 0;
      totals.push(t);
    }
    return totals;
  }

  private async mainLoop(): Promise<void> {
    const { durationMs, hotplugMs } = this.options;
    const epochMs = this.options.epochMs ?? 1000;
    let nextSample = 1000;
    let nextDrain = epochMs;
    let nextHotplug = hotplugMs > 0 ? hotplugMs : Number.POSITIVE_INFINITY;
    // Samples follow the wall clock; drains and hotplug the machine's (virtual when controlled).
    while (!this.stopping && this.elapsed() < durationMs && !this.stepLimitReached()) {
      if (this.elapsed() >= nextSample) {
        this.sample();
        nextSample += 1000;
      }
      const now = this.machineElapsed();
      if (now >= nextHotplug) {
        await this.hotplugStep();
        nextHotplug += hotplugMs;
      }
      if (now >= nextDrain) {
        await this.drain(false);
        nextDrain = this.machineElapsed() + epochMs;
      }
      const machineLeft = Math.min(nextDrain, nextHotplug) - this.machineElapsed();
      // Controlled: slices of machine time only, so that where the controller steps in never
      // depends on the wall clock.
      if (this.machine.control !== null)
        await this.machine.sleep(Math.max(0.001, Math.min(machineLeft, CONTROLLED_SLICE_MS)));
      else
        await this.sleep(
          Math.max(1, Math.min(nextSample - this.elapsed(), durationMs - this.elapsed(), machineLeft)),
        );
    }
  }

  private sample(): void {
    this.hooks.onSample?.({
      elapsedMs: this.elapsed(),
      perCpu: this.totals(),
      online: this.machine.onlineCpus(),
      violations: this.violations.length,
    });
  }

  /** One CPU goes down, or the offline one comes back. */
  private async hotplugStep(): Promise<void> {
    if (this.options.cpus < 2) return;
    const online = this.machine.onlineCpus();
    if (online.length < this.options.cpus) {
      const offline = [...Array(this.options.cpus).keys()].filter((cpu) => !online.includes(cpu));
      await this.machine.cpuUp(offline[0]);
    } else {
      const victim = this.rng.pick(online);
      try {
        await this.machine.cpuDown(victim);
      } catch {
        return this.hung(`CPU${victim} did not reach the offline point`);
      }
    }
    this.hotplugOps++;
  }

  /**
   * Brings every CPU online, stops new work, waits for every CPU's task to notice and for every
   * tasklet to go idle, then runs the drain-time oracles.
   */
  private async drain(final: boolean): Promise<void> {
    // An offline CPU's task is frozen, maybe holding a tasklet disabled: bring it back first.
    for (let cpu = 0; cpu < this.options.cpus; cpu++) {
      if (!this.machine.onlineCpus().includes(cpu)) await this.machine.cpuUp(cpu);
    }
    const epoch = ++this.epochs;
    Atomics.store(this.sh, S_EPOCH, epoch);
    Atomics.store(this.sh, S_PHASE, Phase.Drain);
    const acked = () =>
      this.machine.onlineCpus().every((cpu) => Atomics.load(this.sh, S_DRAIN_ACK + cpu) === epoch);
    if (!(await this.waitFor(acked, LOST_CHECK_MS, () => {})) && !this.stopping) {
      this.checkLostTasklets();
      await this.waitFor(acked, DRAIN_ACK_TIMEOUT_MS - LOST_CHECK_MS, () =>
        this.hung('the stress tasks did not reach the drain point'),
      );
    }
    if (this.stopping && !final) return;
    const idle = await this.waitUntilIdle();
    if (this.options.oracles && this.faults.length === 0) this.checkDrained(idle);
    Atomics.store(this.sh, S_PHASE, Phase.Run);
  }

  /** Waits for every tasklet to go idle while runs still happen somewhere (a loaded host is slow). */
  private async waitUntilIdle(): Promise<boolean> {
    const deadline = this.machine.now() + DRAIN_IDLE_TIMEOUT_MS;
    let runs = this.totalRuns();
    let progressAt = this.machine.now();
    while (!this.allIdle()) {
      const now = this.machine.now();
      const latest = this.totalRuns();
      if (latest !== runs) {
        runs = latest;
        progressAt = now;
      }
      if (now - progressAt > DRAIN_STALL_MS || now > deadline || this.faults.length > 0) return false;
      await this.machine.sleep(1);
    }
    return true;
  }

  private totalRuns(): number {
    let runs = 0;
    for (let cpu = 0; cpu < this.options.cpus; cpu++) runs += this.machine.cpuWord(cpu, C_TASKLET_RUNS);
    return runs;
  }

  private allIdle(): boolean {
    const { mem, layout } = this.machine.memory;
    for (let i = 0; i < this.options.tasklets; i++)
      if (Atomics.load(mem, layout.tasklet(this.firstId + i)) !== 0) return false;
    for (const cpu of this.machine.onlineCpus()) {
      if (this.machine.cpuWord(cpu, C_VEC_HEAD) !== 0 || this.machine.cpuWord(cpu, C_HI_HEAD) !== 0)
        return false;
    }
    return true;
  }

  private checkDrained(idle: boolean): void {
    const { mem, layout } = this.machine.memory;
    for (let i = 0; i < this.options.tasklets && this.violations.length === 0; i++) {
      const state = Atomics.load(mem, layout.tasklet(this.firstId + i));
      const v = at_drain(this.sh, i, state);
      if (v !== null)
        this.addViolation({ ...v, message: `${v.message}; ${this.whereIs(this.firstId + i, state)}` });
    }
    const warnings = check_warnings(this.machine.warnings());
    if (warnings !== null && this.violations.length === 0) this.addViolation(warnings);
    if (!idle && this.violations.length === 0) {
      const queued = this.machine
        .onlineCpus()
        .filter(
          (cpu) => this.machine.cpuWord(cpu, C_VEC_HEAD) !== 0 || this.machine.cpuWord(cpu, C_HI_HEAD) !== 0,
        );
      this.addViolation({
        oracle: 'structure',
        guarantee: 11,
        tasklet: -1,
        cpus: queued,
        message: `queues of CPU ${queued.join(', ')} never emptied after the drain`,
      });
    }
  }

  /**
   * A CPU sleeping in tasklet_kill until SCHED clears, on a tasklet that has SCHED set but is on
   * no queue and not running: its pending run was lost, and the kill can never return.
   */
  private checkLostTasklets(): void {
    const { mem, layout } = this.machine.memory;
    const walk = walkQueues(this.machine, this.options.tasklets + 64);
    for (const cpu of walk.cycles) {
      this.addViolation({
        oracle: 'structure',
        guarantee: 11,
        tasklet: -1,
        cpus: [cpu],
        message: `CPU${cpu}'s tasklet queue has a cycle`,
      });
    }
    for (const [id, cpus] of walk.holders) {
      if (cpus.length > 1 && id >= this.firstId && id < this.firstId + this.options.tasklets) {
        this.addViolation({
          oracle: 'structure',
          guarantee: 11,
          tasklet: id - this.firstId,
          cpus,
          message: `queued ${cpus.length} times (on the queues of CPU ${cpus.join(', ')})`,
        });
      }
    }
    for (let cpu = 0; cpu < this.options.cpus && this.violations.length === 0; cpu++) {
      if (this.machine.cpuWord(cpu, C_WAIT_KIND) !== WaitKind.TaskletSchedClear) continue;
      const id = this.machine.cpuWord(cpu, C_WAIT_TASKLET) - 1;
      const state = Atomics.load(mem, layout.tasklet(id));
      if (state === 1 << TASKLET_STATE_SCHED && !walk.holders.has(id)) {
        this.addViolation({
          oracle: 'at-least-once',
          guarantee: 4,
          tasklet: id - this.firstId,
          cpus: [cpu],
          message: `SCHED is set but the tasklet is on no queue and not running: its run was lost (tasklet_kill on CPU${cpu} waits forever)`,
        });
      }
    }
  }

  /** Where a tasklet is now, read from the queues themselves. */
  private whereIs(id: number, state: number): string {
    const holders = walkQueues(this.machine, this.options.tasklets + 64).holders.get(id);
    const flags =
      [state & (1 << TASKLET_STATE_SCHED) ? 'SCHED' : '', state & 2 ? 'RUN' : ''].filter(Boolean).join('|') ||
      '0';
    return `now state ${flags}, ${holders ? `on the queue of CPU ${holders.join(', ')}` : 'on no queue'}`;
  }

  /** Which CPU waits for what: for a hang report. */
  private hung(what: string): void {
    const waits: string[] = [];
    for (let cpu = 0; cpu < this.options.cpus; cpu++) {
      const kind = this.machine.cpuWord(cpu, C_WAIT_KIND);
      if (kind === WaitKind.None) continue;
      const tasklet = this.machine.cpuWord(cpu, C_WAIT_TASKLET) - 1;
      const state = Atomics.load(this.machine.memory.mem, this.machine.memory.layout.tasklet(tasklet));
      const i = tasklet - this.firstId;
      const inside = i >= 0 && i < this.options.tasklets ? Atomics.load(this.sh, tw(i, F_INSIDE)) : 0;
      waits.push(
        `CPU${cpu} pid ${this.machine.cpuWord(cpu, C_WAIT_PID)} waits (${WaitKind[kind]}) on tasklet #${tasklet} (${this.whereIs(tasklet, state)}${inside > 0 ? `, its callback running on CPU${inside - 1}` : ''})`,
      );
    }
    this.faults.push(`hang: ${what}${waits.length > 0 ? `; ${waits.join('; ')}` : ''}`);
    this.stop();
  }

  private async waitFor(done: () => boolean, timeoutMs: number, onTimeout: () => void): Promise<boolean> {
    const deadline = this.machine.now() + timeoutMs;
    while (!done()) {
      if (this.faults.length > 0) return false;
      if (this.machine.now() > deadline) {
        onTimeout();
        return false;
      }
      await this.machine.sleep(1);
    }
    return true;
  }
}

export function runStress(options: StressOptions, hooks: StressHooks = {}): Promise<StressResult> {
  return new StressRun(options, hooks).run();
}
