/**
 * Each stress oracle, fed a bad history (it must fire) and the matching good one (it must not).
 * Pure functions over shadow words: no machine needed.
 */
import { describe, expect, it } from 'vitest';
import {
  at_drain,
  before_enable,
  check_warnings,
  on_disable_return,
  on_episode_end,
  on_kill_return,
  on_run_end,
  on_run_start,
  on_schedule_return,
  on_schedule_start,
  on_trace_entry,
  type RunContext,
  type Violation,
} from '../harness/stress/oracles.ts';
import {
  F_KIND,
  F_OWNER,
  F_PAIR,
  PairState,
  SHADOW_WORDS,
  TaskletKind,
  tw,
} from '../harness/stress/shadow.ts';

const shadow = (): Int32Array => new Int32Array(SHADOW_WORDS);
const ctx = (
  cpu: number,
  passCount = cpu * 1000 + Math.floor(Math.random() * 999),
  over: Partial<RunContext> = {},
): RunContext => ({
  cpu,
  servingSoftirq: true,
  inInterrupt: true,
  inHardirq: false,
  passCount,
  ownerOfflineCount: 0,
  ...over,
});

/** A complete run on `cpu`; returns the first violation of entry or exit. */
function run(sh: Int32Array, i: number, cpu: number, pass?: number): Violation | null {
  return on_run_start(sh, i, ctx(cpu, pass)) ?? on_run_end(sh, i, cpu);
}

function schedule(sh: Int32Array, i: number, cpu: number, offline = 0): void {
  on_schedule_return(sh, i, cpu, on_schedule_start(sh, i), offline);
}

describe('oracle G1 mutual exclusion', () => {
  it('fires when a second CPU enters while the first is inside', () => {
    const sh = shadow();
    expect(on_run_start(sh, 3, ctx(0))).toBeNull();
    expect(on_run_start(sh, 3, ctx(1))?.oracle).toBe('mutual-exclusion');
  });
  it('fires at exit when someone else took the callback meanwhile', () => {
    const sh = shadow();
    on_run_start(sh, 3, ctx(0));
    sh[tw(3, 0)] = 2; // CPU1 wrote itself in
    expect(on_run_end(sh, 3, 0)?.cpus).toEqual([0, 1]);
  });
  it('stays quiet for runs one after another on different CPUs', () => {
    const sh = shadow();
    expect(run(sh, 3, 0)).toBeNull();
    expect(run(sh, 3, 1)).toBeNull();
  });
});

describe('oracle G2 coalescing', () => {
  it('fires when schedules made while pending gave two runs', () => {
    const sh = shadow();
    run(sh, 1, 0);
    run(sh, 1, 1);
    expect(on_episode_end(sh, 1, 0, 8)?.oracle).toBe('coalescing');
  });
  it('stays quiet for exactly one run', () => {
    const sh = shadow();
    run(sh, 1, 0);
    expect(on_episode_end(sh, 1, 0, 8)).toBeNull();
  });
});

describe('oracles G3/G4 at drain', () => {
  it('G4 fires when a schedule returned and no run started after it', () => {
    const sh = shadow();
    schedule(sh, 2, 0);
    run(sh, 2, 0);
    schedule(sh, 2, 0);
    expect(at_drain(sh, 2, 0)?.oracle).toBe('at-least-once');
  });
  it('G3 fires when a schedule made while the callback ran was lost', () => {
    const sh = shadow();
    schedule(sh, 2, 0);
    on_run_start(sh, 2, ctx(0));
    schedule(sh, 2, 1); // while inside
    on_run_end(sh, 2, 0);
    expect(at_drain(sh, 2, 0)?.oracle).toBe('schedule-while-running');
  });
  it('counts a schedule whose run starts before the call returns as covered', () => {
    const sh = shadow();
    const seq = on_schedule_start(sh, 2);
    run(sh, 2, 0); // an interrupt on the way out of tasklet_schedule ran it
    on_schedule_return(sh, 2, 0, seq, 0);
    on_trace_entry(sh, 2);
    expect(at_drain(sh, 2, 0)).toBeNull();
  });
  it('stays quiet when every schedule was followed by a run', () => {
    const sh = shadow();
    schedule(sh, 2, 0);
    run(sh, 2, 0);
    on_trace_entry(sh, 2);
    expect(at_drain(sh, 2, 0)).toBeNull();
  });
});

describe('oracle G5 locality', () => {
  const privateOf = (sh: Int32Array, i: number, cpu: number): void => {
    sh[tw(i, F_OWNER)] = cpu + 1;
    sh[tw(i, F_KIND)] = TaskletKind.Private;
  };
  it('fires when a private tasklet runs on another CPU with its owner online throughout', () => {
    const sh = shadow();
    privateOf(sh, 4, 0);
    schedule(sh, 4, 0, 0);
    expect(on_run_start(sh, 4, ctx(1))?.oracle).toBe('locality');
  });
  it('allows a run on the heir that rescheduled it there, even if the owner scheduled it again', () => {
    const sh = shadow();
    privateOf(sh, 4, 0);
    schedule(sh, 4, 1, 1); // its callback, running on the heir after a takeover
    schedule(sh, 4, 0, 1); // the owner is back and schedules it too (coalesced)
    expect(on_run_start(sh, 4, ctx(1, undefined, { ownerOfflineCount: 1 }))).toBeNull();
  });
  it('allows the heir to run it after the owner went offline (takeover)', () => {
    const sh = shadow();
    privateOf(sh, 4, 0);
    schedule(sh, 4, 0, 0);
    expect(on_run_start(sh, 4, ctx(1, undefined, { ownerOfflineCount: 1 }))).toBeNull();
  });
});

describe('oracle G6 one run per pass', () => {
  it('fires on two runs in the same tasklet_action pass', () => {
    const sh = shadow();
    expect(run(sh, 5, 0, 42)).toBeNull();
    expect(run(sh, 5, 0, 42)?.oracle).toBe('one-run-per-pass');
  });
  it('stays quiet across passes', () => {
    const sh = shadow();
    run(sh, 5, 0, 42);
    expect(run(sh, 5, 0, 43)).toBeNull();
  });
});

describe('oracle G7 order', () => {
  const pair = (sh: Int32Array): void => {
    sh[tw(0, F_KIND)] = TaskletKind.PairNormal;
    sh[tw(1, F_KIND)] = TaskletKind.PairHi;
    sh[tw(0, F_OWNER)] = 1;
    sh[tw(1, F_OWNER)] = 1;
    sh[tw(0, F_PAIR)] = PairState.Pending;
    schedule(sh, 0, 0);
    schedule(sh, 1, 0);
  };
  it('fires when the normal tasklet of a pending pair runs before the HI one', () => {
    const sh = shadow();
    pair(sh);
    expect(run(sh, 0, 0)?.oracle).toBe('order');
  });
  it('stays quiet when HI runs first', () => {
    const sh = shadow();
    pair(sh);
    expect(run(sh, 1, 0)).toBeNull();
    expect(run(sh, 0, 0)).toBeNull();
  });
});

describe('oracles G8/G9 disable', () => {
  it('G8 fires on a run after tasklet_disable returned and before tasklet_enable', () => {
    const sh = shadow();
    expect(on_disable_return(sh, 6, 0)).toBeNull();
    expect(on_run_start(sh, 6, ctx(1))?.oracle).toBe('disabled');
  });
  it('G8 stays quiet once enable is under way', () => {
    const sh = shadow();
    on_disable_return(sh, 6, 0);
    before_enable(sh, 6);
    expect(run(sh, 6, 1)).toBeNull();
  });
  it('G9 fires when tasklet_disable returns while the callback runs elsewhere', () => {
    const sh = shadow();
    on_run_start(sh, 6, ctx(1));
    expect(on_disable_return(sh, 6, 0)?.oracle).toBe('disable-waits');
  });
});

describe('oracle G10 kill', () => {
  it('fires when tasklet_kill returns while the callback runs', () => {
    const sh = shadow();
    on_run_start(sh, 7, ctx(1));
    expect(on_kill_return(sh, 7, 0, 0)?.oracle).toBe('kill');
  });
  it('fires when tasklet_kill returns with state bits set', () => {
    expect(on_kill_return(shadow(), 7, 0, 1)?.message).toMatch(/state 1/);
  });
  it('stays quiet for an idle tasklet with state 0', () => {
    expect(on_kill_return(shadow(), 7, 0, 0)).toBeNull();
  });
});

describe('oracle G11 structure', () => {
  it('fires on state bits left after the machine drained', () => {
    const sh = shadow();
    expect(at_drain(sh, 8, 1)?.oracle).toBe('structure');
  });
  it('fires on any kernel warning (a queued tasklet without SCHED)', () => {
    expect(check_warnings(1)?.oracle).toBe('structure');
    expect(check_warnings(0)).toBeNull();
  });
});

describe('oracle G14 context', () => {
  it('fires when the callback runs outside serving-softirq context', () => {
    expect(on_run_start(shadow(), 9, ctx(0, 1, { servingSoftirq: false }))?.oracle).toBe('context');
    expect(on_run_start(shadow(), 9, ctx(0, 1, { inHardirq: true }))?.oracle).toBe('context');
  });
});

describe('oracle G15 trace', () => {
  it('fires when runs and tasklet_entry events disagree', () => {
    const sh = shadow();
    schedule(sh, 10, 0);
    run(sh, 10, 0);
    expect(at_drain(sh, 10, 0)?.oracle).toBe('trace');
  });
});
