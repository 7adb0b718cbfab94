/**
 * Runs programs on one booted machine, one after another: setup (fresh tasklets, zeroed
 * shadow), the per-CPU threads started together, hotplug requests served, a drain, then the
 * end-of-program oracles. A machine left hung or faulty is replaced before the next program.
 */
import { fileURLToPath } from 'node:url';
import type { ControlledOptions, ControlStats, RunPlan } from '../../control/driver.ts';
import { Machine } from '../../machine/index.ts';
import {
  C_HI_HEAD,
  C_VEC_HEAD,
  C_WAIT_KIND,
  C_WAIT_TASKLET,
  G_WARN_ONCE,
  T_STATE,
  TASKLET_STATE_RUN,
  TASKLET_STATE_SCHED,
  WaitKind,
} from '../../shm/layout.ts';
import { injectMutant } from '../inject.ts';
import { at_drain, check_warnings } from '../stress/oracles.ts';
import { walkQueues } from '../stress/queues.ts';
import { F_IN_FLIGHT, F_INSIDE, recent_events, tw } from '../stress/shadow.ts';
import { expectedRuns, orderChecks, soleScheduler } from './expect.ts';
import type { DelayPlan } from './injection.ts';
import { type Interval, readIntervals } from './intervals.ts';
import {
  FUZZ_IRQ,
  SHADOW_NAME,
  W_ACTIVE,
  W_CLOCK,
  W_HOTPLUG,
  W_IDS,
  W_MAILBOX,
  W_VIOLATIONS,
  WORDS_NAME,
} from './layout.ts';
import type { FuzzSetup } from './module.ts';
import { at_program_end, type FuzzViolation, merge_kill_coverage } from './oracles.ts';
import { flatten, MAX_TASKLETS, type Program } from './program.ts';
import type { ThreadArg } from './thread.ts';

const fuzzModule = fileURLToPath(new URL('./module.ts', import.meta.url));

export interface FuzzMachineOptions {
  cpus: number;
  /** A mutant of harness/mutants.ts to install on every CPU. */
  inject?: string;
  /** A thread, hotplug step or drain that takes longer than this is a hang (machine time). */
  hangMs?: number;
  /** Controlled mode: programs run one CPU at a time under a seeded schedule (see run's plan). */
  controlled?: ControlledOptions;
}

/** What a controlled run did: its decisions, and the log that replays it exactly. */
export interface ScheduleOutcome extends ControlStats {
  log: number[];
}

export interface RunOutcome {
  violation: FuzzViolation | null;
  /** Op intervals on the logical clock, for the coverage table. */
  intervals: Interval[];
  /** Controlled mode only. */
  schedule?: ScheduleOutcome;
}

const DEFAULT_HANG_MS = 3000;
/** Controlled runs count virtual time (a microsecond per decision): a program needs a few ms. */
const CONTROLLED_HANG_MS = 100;
/** Controlled mode: how long the machine may take to go quiet before a run (module init). */
const SETTLE_MS = 1000;
const BOOT_SETTLE_MS = 20;
/** A drain normally takes a millisecond or two; a tasklet still busy after this never ends. */
const DRAIN_MS = 500;
/** How long a tasklet must sit in an impossible state before it counts as stuck. */
const STUCK_MS = 100;
/** After a violation, how long a machine may take to settle before it is replaced. */
const ABORT_GRACE_MS = 200;
const REPORT_GRACE_MS = 500;
const FUZZ_HZ = 1000;

export class FuzzMachine {
  private machine: Machine | null = null;
  private reported: FuzzViolation[] = [];
  /** Resolves the wait of a run that should stop early: a violation arrived. */
  private onViolation: () => void = () => {};
  private lastWarning = '';
  /** Set when the machine must not run another program (hung thread, fault). */
  private poisoned = false;
  boots = 0;

  constructor(readonly options: FuzzMachineOptions) {}

  private get hangMs(): number {
    return this.options.hangMs ?? (this.options.controlled ? CONTROLLED_HANG_MS : DEFAULT_HANG_MS);
  }

  private async ready(): Promise<Machine> {
    if (this.machine !== null && !this.poisoned) return this.machine;
    await this.shutdown();
    this.machine = await Machine.boot({
      cpus: this.options.cpus,
      hz: FUZZ_HZ,
      maxTasklets: 256,
      modules: [fuzzModule],
      controlled: this.options.controlled,
      ...injectMutant(this.options.inject),
      onPrintk: (_cpu, level, text) => {
        if (level === 'warning' || level === 'err') this.lastWarning = text.split('\n')[0];
      },
      onReport: (_cpu, key, value) => {
        if (key !== 'violation') return;
        this.reported.push(value as FuzzViolation);
        this.onViolation();
      },
      onOops: (oops) => {
        this.reported.push({
          oracle: 'oops',
          guarantee: null,
          tasklet: -1,
          cpus: [oops.cpu],
          message: `oops on CPU${oops.cpu} in ${oops.context} (${oops.culprit}): ${oops.message}`,
        });
      },
      onFault: () => {
        this.poisoned = true;
      },
    });
    this.poisoned = false;
    this.boots++;
    // Controlled: a fresh machine first runs a while (module init, its first ticks), so that its
    // first program starts as later ones do, and a repro replays alike on a fresh machine.
    const m = this.machine;
    if (m.control !== null)
      for (const until = m.now() + BOOT_SETTLE_MS; m.now() < until; ) await m.sleep(until - m.now());
    return this.machine;
  }

  /** Controlled mode: runs the machine until no CPU can run (so every run starts alike). */
  private async settle(m: Machine): Promise<void> {
    const control = m.control!;
    const deadline = m.now() + SETTLE_MS;
    while (!control.quiescent() && m.now() < deadline && m.faults.length === 0) await m.sleep(1);
    if (!control.quiescent()) this.poisoned = true;
  }

  async shutdown(): Promise<void> {
    const machine = this.machine;
    this.machine = null;
    await machine?.shutdown();
  }

  private words(m: Machine): Int32Array {
    return m.sharedWords(WORDS_NAME);
  }

  /**
   * Runs one program. In controlled mode `plan` is its schedule (a strategy and seed, or a
   * decision log to replay), delays are off, and every time limit is on the virtual clock.
   */
  async run(program: Program, delays: DelayPlan, plan?: RunPlan): Promise<RunOutcome> {
    let m = await this.ready();
    if (m.control !== null) {
      if (plan === undefined) throw new Error('a controlled fuzz run needs a schedule plan');
      await this.settle(m);
      if (this.poisoned) {
        // A machine that would not go quiet is replaced (and the new one settles first).
        m = await this.ready();
        await this.settle(m);
      }
      delays = { ...delays, permille: 0 };
    }
    const words = this.words(m);
    const sh = m.sharedWords(SHADOW_NAME);
    this.reported = [];
    this.lastWarning = '';
    m.dmesg.length = 0;
    Atomics.store(m.memory.mem, G_WARN_ONCE, 0); // each program may warn once per site again
    const owners = program.tasklets.map((_, t) => soleScheduler(program, t) ?? -1);
    const setup: FuzzSetup = { tasklets: program.tasklets, owners, threads: program.cpus, delays };
    let violation: FuzzViolation | null = null;
    try {
      await m.call(0, 'fuzz_setup', setup, this.hangMs);
    } catch (error) {
      this.poisoned = true;
      return { violation: this.hang(m, `setup failed: ${(error as Error).message}`), intervals: [] };
    }
    if (m.control !== null) {
      // The schedule starts after the setup (which frees whatever the last program left, so it
      // does more on a used machine than on a fresh one), from a quiet machine.
      await this.settle(m);
      m.control.beginRun(plan!);
    }
    const warningsBefore = m.warnings();
    const hotplugs: Interval[] = [];
    violation = await this.runThreads(m, program, hotplugs);
    violation ??= await this.drain(m, program);
    Atomics.store(words, W_ACTIVE, 0);
    const deadline = m.now() + REPORT_GRACE_MS;
    while (this.reported.length < Atomics.load(words, W_VIOLATIONS) && m.now() < deadline) await m.sleep(1);
    violation = this.reported[0] ?? violation ?? this.endChecks(m, program, sh, warningsBefore);
    const intervals = [...readIntervals(words, program.cpus), ...hotplugs];
    if (m.control === null) return { violation, intervals };
    return { violation, intervals, schedule: { ...m.control.stats(), log: m.control.log() } };
  }

  private async runThreads(
    m: Machine,
    program: Program,
    hotplugs: Interval[],
  ): Promise<FuzzViolation | null> {
    const orders = orderChecks(program);
    const threads = program.threads.map((ops, cpu) => {
      const arg: ThreadArg = { ops, orders: [...orders[cpu]] };
      return m.runTask(cpu, 'fuzz_thread', arg, this.hangMs);
    });
    let settled = false;
    const all = Promise.allSettled(threads).then((results) => {
      settled = true;
      return results;
    });
    const violated = new Promise<void>((resolve) => {
      this.onViolation = resolve;
      if (this.reported.length > 0) resolve();
    });
    const hotplug = program.threads.some((ops) => flatten(ops).some((op) => op.op === 'hotplug'));
    if (!hotplug) await Promise.race([all, violated]);
    // A violation is in: the run is over. A machine that does not settle soon is replaced.
    if (!settled && this.reported.length > 0) return this.abandon(m, all, () => settled);
    if (hotplug) {
      while (!settled) {
        if (this.reported.length > 0) return this.abandon(m, all, () => settled);
        await Promise.race([all, m.sleep(1), violated]);
        const failed = await this.serveHotplug(m, program.cpus, hotplugs);
        if (failed !== null) return failed;
      }
      const failed = await this.serveHotplug(m, program.cpus, hotplugs);
      if (failed !== null) return failed;
    }
    const results = await all;
    const stuck = results.flatMap((r, cpu) => (r.status === 'rejected' ? [cpu] : []));
    if (stuck.length === 0) return null;
    this.poisoned = true;
    return this.hang(
      m,
      `the program thread of CPU ${stuck.join(', ')} did not finish within ${this.hangMs} ms`,
    );
  }

  /** A violation arrived while the threads ran: give them a moment, else replace the machine. */
  private async abandon(m: Machine, all: Promise<unknown>, settled: () => boolean): Promise<null> {
    await Promise.race([all, m.sleep(ABORT_GRACE_MS)]);
    if (!settled()) this.poisoned = true;
    return null;
  }

  /** Takes each CPU whose cycle was asked for offline and back online. */
  private async serveHotplug(m: Machine, cpus: number, log: Interval[]): Promise<FuzzViolation | null> {
    const words = this.words(m);
    for (let cpu = 0; cpu < cpus; cpu++) {
      while (Atomics.load(words, W_HOTPLUG + cpu) > 0) {
        Atomics.sub(words, W_HOTPLUG + cpu, 1);
        const start = Atomics.add(words, W_CLOCK, 1);
        try {
          await m.cpuDown(cpu, this.hangMs);
          await m.cpuUp(cpu, this.hangMs);
        } catch (error) {
          this.poisoned = true;
          return this.hang(m, `hotplug of CPU${cpu}: ${(error as Error).message}`);
        }
        m.raiseIrq(cpu, FUZZ_IRQ); // requests that waited for it while it was offline
        log.push({ cpu, kind: 'hotplug', start, end: Atomics.add(words, W_CLOCK, 1) });
      }
    }
    return null;
  }

  private idle(m: Machine, program: Program): boolean {
    const { mem, layout } = m.memory;
    const words = this.words(m);
    const sh = m.sharedWords(SHADOW_NAME);
    for (let i = 0; i < program.tasklets.length; i++) {
      if (Atomics.load(mem, layout.tasklet(Atomics.load(words, W_IDS + i)) + T_STATE) !== 0) return false;
      if (Atomics.load(sh, tw(i, F_IN_FLIGHT)) !== 0) return false;
      // The shadow's own word, not RUN: a broken RUN bit must not end the drain mid-callback.
      if (Atomics.load(sh, tw(i, F_INSIDE)) !== 0) return false;
    }
    for (let cpu = 0; cpu < m.nrCpus; cpu++)
      if (m.cpuWord(cpu, C_VEC_HEAD) !== 0 || m.cpuWord(cpu, C_HI_HEAD) !== 0) return false;
    for (let w = W_MAILBOX; w < W_HOTPLUG; w++) if (Atomics.load(words, w) !== 0) return false;
    return true;
  }

  /**
   * Nothing queued anywhere and no callback running: what is left are lost tasklets (SCHED set,
   * on no queue), which the next setup replaces. The machine can go on without a reboot.
   */
  private quiet(m: Machine, program: Program): boolean {
    const { mem, layout } = m.memory;
    const words = this.words(m);
    for (let cpu = 0; cpu < m.nrCpus; cpu++)
      if (m.cpuWord(cpu, C_VEC_HEAD) !== 0 || m.cpuWord(cpu, C_HI_HEAD) !== 0) return false;
    for (let i = 0; i < program.tasklets.length; i++) {
      const state = Atomics.load(mem, layout.tasklet(Atomics.load(words, W_IDS + i)) + T_STATE);
      if ((state & (1 << TASKLET_STATE_RUN)) !== 0) return false;
    }
    return true;
  }

  /** Waits until every tasklet is idle and every queue empty; what is left then is a finding. */
  private async drain(m: Machine, program: Program): Promise<FuzzViolation | null> {
    for (const cpu of m.onlineCpus()) m.raiseIrq(cpu, FUZZ_IRQ);
    const started = m.now();
    const deadline = started + Math.min(DRAIN_MS, this.hangMs);
    let stuck: { since: number; message: string } | null = null;
    while (!this.idle(m, program)) {
      if (this.reported.length > 0 && m.now() > started + ABORT_GRACE_MS) {
        // The finding is in; only whether the machine can go on is left to decide.
        this.poisoned = !this.quiet(m, program);
        return null;
      }
      // A tasklet found in the same impossible state for a while will not get out of it.
      const now = m.now();
      const found = this.stuckTasklet(m, program);
      if (found === null) stuck = null;
      else if (stuck === null || stuck.message !== found.message)
        stuck = { since: now, message: found.message };
      if ((found !== null && now - stuck!.since > STUCK_MS) || now > deadline) {
        this.poisoned = !this.quiet(m, program);
        return (
          found ?? this.hang(m, `the machine did not drain within ${Math.min(DRAIN_MS, this.hangMs)} ms`)
        );
      }
      await m.sleep(1);
    }
    return null;
  }

  /** A tasklet in a state no correct machine leaves it in once the threads are done, or null. */
  private stuckTasklet(m: Machine, program: Program): FuzzViolation | null {
    const { mem, layout } = m.memory;
    const words = this.words(m);
    const sh = m.sharedWords(SHADOW_NAME);
    const walk = walkQueues(m, 256);
    for (let i = 0; i < program.tasklets.length; i++) {
      const id = Atomics.load(words, W_IDS + i);
      const state = Atomics.load(mem, layout.tasklet(id) + T_STATE);
      const holders = walk.holders.get(id) ?? [];
      const events = recent_events(sh, i);
      if (holders.length > 1)
        return {
          oracle: 'structure',
          guarantee: 11,
          tasklet: i,
          cpus: holders,
          message: `t${i} is queued ${holders.length} times (CPU ${holders.join(', ')})`,
          events,
        };
      if (state === 1 << TASKLET_STATE_SCHED && holders.length === 0)
        return {
          oracle: 'at-least-once',
          guarantee: 4,
          tasklet: i,
          cpus: [],
          message: `t${i} has SCHED set but is on no queue and not running: its run was lost`,
          events,
        };
      if ((state & (1 << TASKLET_STATE_RUN)) !== 0 && holders.length > 0)
        return {
          oracle: 'structure',
          guarantee: 11,
          tasklet: i,
          cpus: holders,
          message: `t${i} stays queued with RUN set and never runs`,
          events,
        };
    }
    return null;
  }

  /** A hang, with what each CPU waits for. */
  private hang(m: Machine, what: string): FuzzViolation {
    const words = this.words(m);
    const waits: string[] = [];
    for (let cpu = 0; cpu < m.nrCpus; cpu++) {
      const kind = m.cpuWord(cpu, C_WAIT_KIND);
      if (kind === WaitKind.None) continue;
      const id = m.cpuWord(cpu, C_WAIT_TASKLET) - 1;
      let i = -1;
      for (let k = 0; k < MAX_TASKLETS; k++) if (Atomics.load(words, W_IDS + k) === id) i = k;
      waits.push(`CPU${cpu} waits (${WaitKind[kind]}) on ${i >= 0 ? `t${i}` : `tasklet #${id}`}`);
    }
    return {
      oracle: 'hang',
      guarantee: null,
      tasklet: -1,
      cpus: [],
      message: `hang: ${what}${waits.length > 0 ? `; ${waits.join('; ')}` : ''}`,
    };
  }

  private endChecks(
    m: Machine,
    program: Program,
    sh: Int32Array,
    warningsBefore: number,
  ): FuzzViolation | null {
    const { mem, layout } = m.memory;
    const words = this.words(m);
    for (let i = 0; i < program.tasklets.length; i++) {
      const state = Atomics.load(mem, layout.tasklet(Atomics.load(words, W_IDS + i)) + T_STATE);
      merge_kill_coverage(sh, words, i);
      const v = at_drain(sh, i, state) ?? at_program_end(sh, i, expectedRuns(program, i));
      if (v !== null) return { ...v, events: recent_events(sh, i) };
    }
    const warned = check_warnings(m.warnings() - warningsBefore);
    if (warned !== null) return { ...warned, message: `${warned.message}: ${this.lastWarning}` };
    return null;
  }
}
