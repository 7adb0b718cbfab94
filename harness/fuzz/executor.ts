/**
 * Runs programs on one booted machine, one after another: setup (fresh tasklets, zeroed
 * shadow), the per-CPU threads started together, hotplug requests served, a drain, then the
 * end-of-program oracles. A machine left hung or faulty is replaced before the next program.
 */
import type { ControlledOptions, ControlStats, RunPlan } from '../../control/driver.ts';
import type { Machine } from '../../machine/index.ts';
import { MachineView } from '../../machine/view.ts';
import { wholeUs } from '../../shm/clock.ts';
import { G_WARN_ONCE } from '../../shm/layout.ts';
import { BH_WORDS_NAME } from './bh-layout.ts';
import { bootFuzzMachine } from './boot.ts';
import { drainProgram } from './drain.ts';
import { endChecks } from './end-checks.ts';
import { soleScheduler } from './expect.ts';
import type { DelayPlan } from './injection.ts';
import { type Interval, readIntervals } from './intervals.ts';
import { SHADOW_NAME, W_ACTIVE, W_SETUP_WARNINGS, W_VIOLATIONS, WORDS_NAME } from './layout.ts';
import type { FuzzSetup } from './module.ts';
import type { FuzzViolation } from './oracles.ts';
import type { Program } from './program.ts';
import { hangViolation, type MachineHealth, type ProgramRun, programIds } from './program-run.ts';
import { FuzzReports } from './reports.ts';
import { runThreads } from './run-threads.ts';

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
const REPORT_GRACE_MS = 500;
/** How long the CPUs of a poisoned machine get to stop before their workers are terminated. */
const POISONED_STOP_MS = 300;

/** Whether a program tasklet is not idle and enabled: scheduled, running or disabled. */
function leftBehind(run: ProgramRun): boolean {
  return programIds(run).some((id) => {
    const t = run.view.tasklet(id);
    return t.state !== 0 || t.count !== 0;
  });
}

export class FuzzMachine {
  private machine: Machine | null = null;
  private readonly reports = new FuzzReports();
  private readonly health: MachineHealth = { poisoned: false };
  boots = 0;
  /** Programs run on this machine so far (each one's reports carry its number). */
  private generation = 0;

  constructor(readonly options: FuzzMachineOptions) {}

  private get hangMs(): number {
    return this.options.hangMs ?? (this.options.controlled ? CONTROLLED_HANG_MS : DEFAULT_HANG_MS);
  }

  /** The machine, booted afresh if there is none or it is poisoned. */
  private async ready(): Promise<Machine> {
    if (this.machine !== null && !this.health.poisoned) return this.machine;
    await this.shutdown();
    const m = await bootFuzzMachine(this.options, this.reports, () => {
      this.health.poisoned = true;
    });
    this.machine = m;
    this.health.poisoned = false;
    this.boots++;
    // Controlled: a fresh machine first runs a while (module init, its first ticks), so that its
    // first program starts as later ones do, and a repro replays alike on a fresh machine.
    if (m.control !== null)
      for (const until = wholeUs(m.now() + BOOT_SETTLE_MS); wholeUs(m.now()) < until; )
        await m.sleep((until - wholeUs(m.now())) / 1000);
    return m;
  }

  /** Controlled mode: runs the machine until no CPU can run (so every run starts alike). */
  private async settle(m: Machine): Promise<void> {
    if (!(await m.control!.settle(SETTLE_MS))) this.health.poisoned = true;
  }

  async shutdown(): Promise<void> {
    const machine = this.machine;
    this.machine = null;
    // A poisoned machine may have a CPU that never comes back to its loop (spinning on a broken
    // list): it gets a moment to stop, not the usual grace, before its worker is terminated.
    await machine?.shutdown(this.health.poisoned ? POISONED_STOP_MS : undefined);
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
      if (this.health.poisoned) {
        // A machine that would not go quiet is replaced (and the new one settles first).
        m = await this.ready();
        await this.settle(m);
      }
      delays = { ...delays, permille: 0 };
    }
    const run: ProgramRun = {
      m,
      view: new MachineView(m.memory),
      words: m.sharedWords(WORDS_NAME),
      sh: m.sharedWords(SHADOW_NAME),
      bh: m.sharedWords(BH_WORDS_NAME),
      program,
      reports: this.reports,
      hangMs: this.hangMs,
      health: this.health,
    };
    this.reports.reset(++this.generation);
    m.dmesg.length = 0;
    Atomics.store(m.memory.mem, G_WARN_ONCE, 0); // each program may warn once per site again
    const owners = program.tasklets.map((_, t) => soleScheduler(program, t) ?? -1);
    const setup: FuzzSetup = {
      tasklets: program.tasklets,
      owners,
      threads: program.cpus,
      delays,
      generation: this.generation,
    };
    if (m.control !== null) {
      try {
        await m.call(0, 'fuzz_setup', setup, this.hangMs);
      } catch (error) {
        this.health.poisoned = true;
        return { violation: hangViolation(run, `setup failed: ${(error as Error).message}`), intervals: [] };
      }
      // The schedule starts after the setup (which frees whatever the last program left, so it
      // does more on a used machine than on a fresh one), from a quiet machine.
      await this.settle(m);
      m.control.beginRun(plan!);
    }
    const hotplugs: Interval[] = [];
    // Free-running, time in which every CPU only waits for the clock (a busy callback's udelay
    // with the other CPUs idle, a timer far ahead) is skipped, as controlled mode skips it.
    if (m.control === null) m.skipIdleTime(true);
    let violation: FuzzViolation | null;
    try {
      // Free-running, CPU 0's program thread runs the setup first: no round trip of its own.
      violation = await runThreads(run, hotplugs, setup, m.control === null);
      violation ??= await drainProgram(run);
    } finally {
      m.skipIdleTime(false);
    }
    const { words } = run;
    Atomics.store(words, W_ACTIVE, 0);
    // Reports the CPUs counted may still be on their way.
    const deadline = wholeUs(m.now() + REPORT_GRACE_MS);
    while (this.reports.violations.length < Atomics.load(words, W_VIOLATIONS) && wholeUs(m.now()) < deadline)
      await m.sleep(1);
    violation =
      this.reports.violations[0] ?? violation ?? endChecks(run, Atomics.load(words, W_SETUP_WARNINGS));
    // A failed program can leave a tasklet scheduled off every queue, or its disable count
    // off 0: freeing it would warn in the next program's setup, pinned on that program. It
    // gets a fresh machine instead, so nothing of this one survives into it.
    if (violation !== null && leftBehind(run)) this.health.poisoned = true;
    const intervals = [...readIntervals(words, program.cpus), ...hotplugs];
    if (m.control === null) return { violation, intervals };
    return { violation, intervals, schedule: { ...m.control.stats(), log: m.control.log() } };
  }
}
