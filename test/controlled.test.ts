/**
 * Controlled mode: the decision rule on a hand-built control block; determinism (the same seed
 * gives the same trace and schedule, twice); a program that runs alike on a used and a fresh
 * machine; exact replay of a mutant's failure from its repro file; shrinking of the decision log.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type ControlBlock,
  createControlBlock,
  D_CHANGE_POINTS,
  D_CLOCK_NS,
  D_DEADLINE_NS,
  D_PREEMPTIONS,
  D_STEPS,
  DC_DEADLINE_NS,
  DC_WAITING_SINCE,
  FORCED_BIT,
  I_DEPTH,
  I_LOG_LEN,
  I_REPLAY_LEN,
  I_SCHEDULE_RULES,
  I_STRATEGY,
  I_UNTIL_QUIESCENT,
  IC_PRIORITY,
  IC_STATE,
  RunState,
  Strategy,
} from '../control/block.ts';
import { decide } from '../control/decide.ts';
import { batonSpinsFor, DEFAULT_BATON_SPINS } from '../control/plan.ts';
import { runCampaign } from '../harness/fuzz/campaign.ts';
import { FuzzMachine } from '../harness/fuzz/executor.ts';
import { programArb } from '../harness/fuzz/generate.ts';
import { replay } from '../harness/fuzz/replay.ts';
import { buildRepro, parseRepro } from '../harness/fuzz/repro.ts';
import { preemptions, shrinkSchedule } from '../harness/fuzz/schedule-shrink.ts';
import { drain } from '../harness/oracles/drain.ts';
import { DEFAULT_MIX } from '../harness/stress/mix.ts';
import { runStress, type StressResult } from '../harness/stress/run.ts';
import { Machine } from '../machine/index.ts';
import { createMemory } from '../shm/layout.ts';
import { attachMemory } from '../shm/memory.ts';

const CPUS = 3;
const CONTROLLER = CPUS;

describe('the decision rule', () => {
  let b: ControlBlock;
  const priorities = (...p: number[]): void =>
    p.forEach((priority, cpu) => {
      b.i32[b.icpu(cpu) + IC_PRIORITY] = priority;
    });
  const state = (cpu: number, s: RunState, deadlineMs = 1000): void => {
    b.i32[b.icpu(cpu) + IC_STATE] = s;
    b.f64[b.dcpu(cpu) + DC_DEADLINE_NS] = deadlineMs * 1e6;
  };

  beforeEach(() => {
    attachMemory(createMemory({ nrCpus: CPUS, maxTasklets: 16 })); // wake words and interrupt lines
    b = createControlBlock({ nrCpus: CPUS, logCapacity: 64, batonSpins: 2000 });
    b.f64[D_DEADLINE_NS] = Number.POSITIVE_INFINITY; // the controller wants nothing back
    b.i32[I_STRATEGY] = Strategy.Pct;
    b.i32[I_DEPTH] = 3;
    b.f64[D_CHANGE_POINTS] = -1;
    b.f64[D_CHANGE_POINTS + 1] = -1;
  });

  it('PCT runs the highest-priority CPU; at a change point the runner drops below everyone', () => {
    priorities(5, 7, 6);
    expect(decide(b, 0, CPUS, 1)).toBe(1);
    b.f64[D_CHANGE_POINTS] = 2; // the second decision is a change point
    expect(decide(b, 1, CPUS, 1)).toBe(2);
    expect(b.i32[b.icpu(1) + IC_PRIORITY]).toBe(1);
    expect(b.i32[I_LOG_LEN]).toBe(2); // two switches, both preemptions: CPU0 and CPU1 could go on
    expect(b.f64[D_PREEMPTIONS]).toBe(2);
  });

  it('a CPU in a spin loop (yielded) runs only when no other CPU can', () => {
    priorities(5, 7, 6);
    state(1, RunState.Yielded);
    expect(decide(b, 0, CPUS, 1)).toBe(2);
    state(0, RunState.Blocked);
    state(2, RunState.Blocked);
    expect(decide(b, 2, CPUS, 1)).toBe(1);
    // The switch away from a blocked CPU is forced, not a preemption.
    expect(b.log[(b.i32[I_LOG_LEN] - 1) * 4 + 3]).toBe(1 | FORCED_BIT);
  });

  it('when only spinners can run, the others go before the one that just yielded', () => {
    priorities(7, 5, 6);
    state(2, RunState.Blocked); // out of the way
    state(0, RunState.Yielded); // CPU0 spins (a dying CPU waiting for its heir, say)
    state(1, RunState.Yielded); // and so does CPU1 (the heir, in a tasklet_kill)
    expect(decide(b, 0, CPUS, 1)).toBe(1); // PCT prefers CPU0, but it has just yielded
    expect(decide(b, 1, CPUS, 1)).toBe(0);
    expect(decide(b, 0, CPUS, 2)).toBe(1);
    // Before repro format 3 the yielder could be picked again: CPU1 got a step per fairness slice.
    b.i32[I_SCHEDULE_RULES] = 2;
    expect(decide(b, 0, CPUS, 3)).toBe(0);
  });

  it('with every CPU idle, time jumps to the earliest tick and that CPU runs', () => {
    state(0, RunState.Blocked, 5);
    state(1, RunState.Blocked, 3);
    state(2, RunState.Blocked, 4);
    b.f64[D_DEADLINE_NS] = 10e6;
    expect(decide(b, CONTROLLER, CPUS, 1)).toBe(1);
    expect(b.f64[D_CLOCK_NS]).toBe(3e6);
    // Past the controller's deadline nobody runs: the controller takes the machine back.
    b.f64[D_DEADLINE_NS] = 2e6;
    state(1, RunState.Blocked, 8);
    expect(decide(b, CONTROLLER, CPUS, 2)).toBe(CONTROLLER);
  });

  it('settling, the controller takes the machine back the moment every CPU is idle, before any tick', () => {
    state(0, RunState.Blocked, 5);
    state(1, RunState.Blocked, 3);
    state(2, RunState.Running);
    b.i32[I_UNTIL_QUIESCENT] = 1;
    expect(decide(b, CONTROLLER, CPUS, 1)).toBe(2);
    state(2, RunState.Blocked, 4);
    const clock = b.f64[D_CLOCK_NS];
    expect(decide(b, 2, CPUS, 1)).toBe(CONTROLLER);
    expect(b.f64[D_CLOCK_NS]).toBe(clock + 1000); // the decision's own step; no jump to a tick
  });

  it('fairness gives a CPU that could run but never does a slice', () => {
    priorities(7, 5, 6);
    state(2, RunState.Blocked); // out of the way
    let waited = 0;
    while (decide(b, 0, CPUS, waited + 1) === 0) waited++;
    expect(waited).toBeGreaterThan(1000);
    expect(waited).toBeLessThan(5000);
    expect(decide(b, 1, CPUS, 1)).toBe(1); // its slice goes on although CPU0 ranks higher
  });

  it("a spinner that only ever runs inside the others' yields still gets a slice while they run on", () => {
    priorities(7, 5, 6);
    state(2, RunState.Blocked); // out of the way
    const steps = [0, 0];
    const step = (cpu: number, s: RunState): number => {
      state(cpu, s);
      return decide(b, cpu, CPUS, ++steps[cpu]);
    };
    state(1, RunState.Yielded); // CPU1 spins on a lock that CPU0 takes again and again
    /** CPU0's decisions until one hands CPU1 the baton while CPU0 could go on, or `limit`. */
    const runningUntilSlice = (limit: number): number => {
      for (let i = 1; i <= limit; i++) {
        if (i % 500 === 0) {
          // Inside its critical section CPU0 yields a while (a KCSAN window): CPU1 checks the
          // lock once, finds it held and yields back.
          expect(step(0, RunState.Yielded)).toBe(1);
          expect(step(1, RunState.Running)).toBe(1);
          expect(step(1, RunState.Yielded)).toBe(0);
          continue;
        }
        if (step(0, RunState.Running) === 1) return i;
      }
      return limit;
    };
    const waited = runningUntilSlice(20_000);
    expect(waited).toBeGreaterThan(1000);
    expect(waited).toBeLessThan(5000);
    // Under the rules of repro format 3 its checks counted as service: it never got a slice.
    state(1, RunState.Yielded);
    b.i32[I_SCHEDULE_RULES] = 3;
    expect(runningUntilSlice(20_000)).toBe(20_000);
  });

  it('replay follows the log where it matches and keeps the running CPU elsewhere', () => {
    b.i32[I_STRATEGY] = Strategy.Replay;
    b.replay.set([0, 0, 3, 2]); // CPU0, at its third decision, switched to CPU2
    b.i32[I_REPLAY_LEN] = 1;
    expect(decide(b, 0, CPUS, 1)).toBe(0);
    expect(decide(b, 0, CPUS, 2)).toBe(0);
    expect(decide(b, 0, CPUS, 3)).toBe(2);
    expect(decide(b, 2, CPUS, 1)).toBe(2);
  });

  it('replay: past the log, fairness still gives a starved CPU its slice (not in a legacy replay)', () => {
    b.i32[I_STRATEGY] = Strategy.Replay;
    b.i32[I_REPLAY_LEN] = 0; // a log that has run out: "the running CPU goes on"
    state(2, RunState.Blocked);
    const waitedFor = (limit: number): number => {
      let waited = 0;
      while (waited < limit && decide(b, 0, CPUS, waited + 1) === 0) waited++;
      return waited;
    };
    expect(waitedFor(10_000)).toBeLessThan(5000);
    b.i32[I_SCHEDULE_RULES] = 2;
    b.f64[b.dcpu(1) + DC_WAITING_SINCE] = b.f64[D_STEPS];
    expect(waitedFor(10_000)).toBe(10_000);
  });
});

describe('decision log shrinking', () => {
  // Entries: [step, from, from's step, to]; the third and fifth are forced switches.
  const log = [10, 0, 10, 1, 20, 1, 5, 0, 30, 0, 12, 1 | FORCED_BIT, 40, 1, 9, 0, 50, 0, 20, 1 | FORCED_BIT];

  it('drops every preemption the failure does not need, keeping forced switches', async () => {
    // The "failure" needs the preemption at step 40 (the fourth entry), nothing else.
    const shrunk = await shrinkSchedule(
      log,
      'kill',
      async (candidate) => ({
        violation: candidate.includes(40)
          ? { oracle: 'kill', guarantee: 10, tasklet: 0, cpus: [], message: '' }
          : null,
        schedule: {
          log: candidate,
          steps: 50,
          switches: 0,
          preemptions: 0,
          virtualMs: 0,
          logOverflow: false,
        },
      }),
      () => false,
    );
    expect(shrunk.from).toBe(3);
    expect(shrunk.to).toBe(1);
    expect(shrunk.log).toEqual([30, 0, 12, 1 | FORCED_BIT, 40, 1, 9, 0, 50, 0, 20, 1 | FORCED_BIT]);
    expect(preemptions(shrunk.log)).toEqual([1]);
  });
});

const stress = (seed: number, strategy: 'pct' | 'random'): Promise<StressResult> =>
  runStress({
    cpus: 2,
    tasklets: 64,
    durationMs: 120_000,
    seed,
    mix: DEFAULT_MIX,
    hotplugMs: 0,
    oracles: true,
    controlled: { strategy, seed },
    stepLimit: 40_000,
  });

describe('determinism', () => {
  it('the same seed gives the same trace and the same schedule, twice; another seed another', async () => {
    for (const strategy of ['pct', 'random'] as const) {
      const [first, second] = [await stress(7, strategy), await stress(7, strategy)];
      expect(first.status).toBe('clean');
      expect(first.schedule!.steps).toBeGreaterThanOrEqual(40_000);
      expect(second.schedule!.traceHash).toBe(first.schedule!.traceHash);
      expect(second.schedule!.scheduleHash).toBe(first.schedule!.scheduleHash);
      expect(second.totals).toEqual(first.totals);
    }
    const other = await stress(8, 'pct');
    expect(other.schedule!.scheduleHash).not.toBe((await stress(7, 'pct')).schedule!.scheduleHash);
  }, 120_000);

  it('a program runs alike on a machine that ran others before and on a fresh one', async () => {
    const programs = fc.sample(programArb(2), { seed: 3, numRuns: 4 });
    const delays = { seed: 1, permille: 0, maxUs: 0 };
    const plan = { strategy: 'pct' as const, seed: 99, expectedSteps: 700 };
    const used = new FuzzMachine({ cpus: 2, controlled: plan });
    let last = null;
    try {
      for (const program of programs) last = await used.run(program, delays, plan);
    } finally {
      await used.shutdown();
    }
    const fresh = new FuzzMachine({ cpus: 2, controlled: plan });
    try {
      const again = await fresh.run(programs[3], delays, plan);
      expect(again.schedule!.log).toEqual(last!.schedule!.log);
      expect(again.schedule!.steps).toBe(last!.schedule!.steps);
      expect(again.violation).toEqual(last!.violation);
    } finally {
      await fresh.shutdown();
    }
  }, 60_000);
});

describe('baton spins for machines side by side', () => {
  it('stay the default while every machine has two host cores, and drop past that', () => {
    expect(batonSpinsFor(1, 2)).toBeUndefined();
    expect(batonSpinsFor(8, 16)).toBeUndefined();
    expect(batonSpinsFor(2, 2)).toBeLessThan(DEFAULT_BATON_SPINS);
    expect(batonSpinsFor(16, 16)).toBeLessThan(DEFAULT_BATON_SPINS);
  });
});

describe('settling', () => {
  it('ends as the machine goes quiet, at any phase of the timer', async () => {
    const m = await Machine.boot({ cpus: 2, hz: 1000, controlled: { strategy: 'pct', seed: 1 } });
    try {
      // From each offset into the tick period: polling for quiescence once a millisecond would
      // find some of them still in their tick every time (phase-locked) and give up.
      for (let offsetUs = 0; offsetUs < 250; offsetUs++) {
        expect(await m.control!.settle(50)).toBe(true);
        await m.sleep(1 + offsetUs / 1000);
        const from = m.now();
        expect(await m.control!.settle(50)).toBe(true);
        expect(m.now() - from).toBeLessThan(1);
      }
    } finally {
      await m.shutdown();
    }
  }, 30_000);
});

describe('a CPU that dies holding the baton', () => {
  it('is a fault, and a wait bounded in machine time still ends: the clock moves on without it', async () => {
    const m = await Machine.boot({
      cpus: 2,
      modules: [new URL('./modules/faults-exit-call.ts', import.meta.url).pathname],
      onPrintk: () => {},
      controlled: { strategy: 'pct', seed: 1 },
    });
    try {
      // CPU1 runs the call holding the baton, and its worker ends there: no CPU moves the clock.
      await expect(m.call(1, 'exit')).rejects.toThrow(/CPU1 worker exited unexpectedly \(code 7\)/);
      const from = m.now();
      // The stress and fuzz drain: it used to wait for a clock that never moved, forever.
      const hung = new Promise((resolve) =>
        setTimeout(() => resolve('still waiting after 10 s'), 10_000).unref(),
      );
      const result = await Promise.race([drain({ clock: m, idle: () => false, timeoutMs: 20 }), hung]);
      expect(result).toEqual({ status: 'timeout', finding: null });
      expect(m.now() - from).toBeGreaterThan(20);
    } finally {
      await m.shutdown();
    }
  });
});

describe("a mutant's failure", () => {
  it('is found, its log shrunk, and its repro file replays it exactly every time', async () => {
    const result = await runCampaign({
      cpus: 2,
      seed: 1,
      runs: 300,
      inject: 'clear-sched-after-run',
      controlled: { strategy: 'pct', seed: 1 },
      reproRuns: 3,
      shrinkMs: 20_000,
    });
    expect(result.status).toBe('failure');
    const failure = result.failure!;
    expect(failure.reproduction).toEqual({ runs: 3, failures: 3 });
    const schedule = failure.schedule!;
    expect(schedule.preemptions).toBeLessThanOrEqual(schedule.originalPreemptions);
    expect(preemptions(schedule.log).length).toBe(schedule.preemptions);
    const repro = parseRepro(JSON.stringify(buildRepro(failure, 1, 2, 'clear-sched-after-run')));
    expect(repro.schedule!.log).toEqual(schedule.log);
    const replayed = await replay(repro, 3);
    expect(replayed).toMatchObject({ reproduced: 3, exact: 3, mode: 'replay-log' });
    expect(replayed.first!.message).toBe(failure.violation.message);
  }, 120_000);
});
