/**
 * Each oracle of the library stress and fuzz share (harness/oracles/), fed a bad history (it
 * must fire) and the matching good one (it must not): pure functions over shadow words, no
 * machine needed. Then the shared drain routine on a scripted clock, and what the machine
 * view's findings become in the oracles' terms.
 */
import { describe, expect, it } from 'vitest';
import {
  before_enable,
  on_disable_return,
  on_kill_return,
  on_schedule_return,
  on_schedule_start,
  on_trace_entry,
} from '../harness/oracles/call-checks.ts';
import { drain, type MachineClock } from '../harness/oracles/drain.ts';
import { at_drain, check_warnings, first_drain_violation } from '../harness/oracles/drain-checks.ts';
import {
  describeWhere,
  findingViolation,
  hangMessage,
  strandedViolation,
  type TaskletNames,
} from '../harness/oracles/findings.ts';
import type { Violation } from '../harness/oracles/guarantees.ts';
import { on_run_end, on_run_start, type RunContext } from '../harness/oracles/run-checks.ts';
import {
  F_INSIDE,
  F_KIND,
  F_OWNER,
  F_PAIR,
  INSIDE_TRYLOCK,
  PairState,
  TaskletKind,
  tw,
} from '../harness/oracles/shadow.ts';
import { on_episode_end } from '../harness/stress/oracles.ts';
import { OPS_PER_CPU, S_OPS, S_TASKLETS, SHADOW_WORDS } from '../harness/stress/shadow.ts';
import { MachineView } from '../machine/view.ts';
import {
  C_CURRENT_PID,
  C_IRQS_OFF,
  C_PREEMPT_COUNT,
  C_SOFTIRQ_INVOCATIONS,
  C_SOFTIRQ_PENDING,
  C_VEC_HEAD,
  C_VEC_TAIL,
  C_WAIT_KIND,
  C_WAIT_PID,
  C_WAIT_TASKLET,
  createMemory,
  G_ONLINE_MASK,
  T_NEXT,
  T_STATE,
  WaitKind,
} from '../shm/layout.ts';

const shadow = (): Int32Array => new Int32Array(SHADOW_WORDS);
/** Each run in its own softirq invocation unless a test says otherwise. */
let invocations = 0;
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
  invocation: ++invocations,
  vector: 6,
  jiffies: 0,
  boundJiffies: 1,
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
  it('names a tasklet_trylock holder as such (an irq on its own CPU ran the callback under it)', () => {
    const sh = shadow();
    sh[tw(3, F_INSIDE)] = 1 + 1 + INSIDE_TRYLOCK; // CPU1's task holds the RUN bit
    expect(on_run_start(sh, 3, ctx(1))).toMatchObject({
      oracle: 'mutual-exclusion',
      cpus: [1, 1],
      message: 'callback entered on CPU1 while CPU1 held its RUN bit by tasklet_trylock',
    });
    expect(on_disable_return(sh, 3, 0)?.message).toBe(
      'tasklet_disable returned on CPU0 while CPU1 held its RUN bit by tasklet_trylock',
    );
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

describe('oracle G13 pass bounds', () => {
  const inv = (invocation: number, passCount: number, jiffies = 0): Partial<RunContext> => ({
    invocation,
    passCount,
    jiffies,
  });
  const runIn = (sh: Int32Array, over: Partial<RunContext>, exit = over.jiffies ?? 0): Violation | null =>
    on_run_start(sh, 0, ctx(0, over.passCount, over)) ?? on_run_end(sh, 0, 0, exit);

  it('fires on an eleventh run (an eleventh pass) in one softirq invocation', () => {
    const sh = shadow();
    for (let pass = 1; pass <= 10; pass++) expect(runIn(sh, inv(500, pass))).toBeNull();
    expect(runIn(sh, inv(500, 11))?.oracle).toBe('pass-bounds');
  });
  it('stays quiet for ten passes, and counts HI and TASKLET runs apart', () => {
    const sh = shadow();
    for (let pass = 1; pass <= 10; pass++) expect(runIn(sh, inv(501, pass))).toBeNull();
    for (let pass = 1; pass <= 10; pass++) {
      expect(runIn(sh, { ...inv(502, 2 * pass), vector: 0 })).toBeNull();
      expect(runIn(sh, { ...inv(502, 2 * pass + 1), vector: 6 })).toBeNull();
    }
    expect(runIn(sh, inv(503, 100))).toBeNull();
  });
  it('does not take a HI run and a TASKLET run of one pass for a restart', () => {
    const sh = shadow();
    expect(runIn(sh, { ...inv(510, 1, 10), vector: 0 }, 12)).toBeNull();
    expect(runIn(sh, { ...inv(510, 2, 12), vector: 6 })).toBeNull();
  });
  it('fires when the loop restarted after the time bound had passed', () => {
    const sh = shadow();
    expect(runIn(sh, inv(503, 1, 10), 11)).toBeNull();
    expect(runIn(sh, inv(503, 2, 11))?.oracle).toBe('pass-bounds');
  });
  it('stays quiet for a restart before the bound, and across invocations', () => {
    const sh = shadow();
    expect(runIn(sh, inv(504, 1, 10), 10)).toBeNull();
    expect(runIn(sh, inv(504, 2, 10), 12)).toBeNull();
    expect(runIn(sh, inv(505, 3, 40), 41)).toBeNull();
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

describe('drain-time checks over every tasklet', () => {
  it('returns the first tasklet (in order) that fails at_drain or the harness check', () => {
    const sh = shadow();
    schedule(sh, 2, 0); // never ran
    expect(first_drain_violation(sh, 4, () => 0)).toMatchObject({
      index: 2,
      violation: { oracle: 'at-least-once' },
    });
    const more = (i: number) => (i === 1 ? { message: 'harness check' } : null);
    expect(first_drain_violation(sh, 4, () => 0, more)).toMatchObject({ index: 1 });
    expect(first_drain_violation(sh, 2, () => 0)).toBeNull();
  });

  it('the stress globals fill the shadow header the records follow', () => {
    expect(S_TASKLETS).toBe(S_OPS + 64 * OPS_PER_CPU);
    expect(tw(0, 0)).toBe(S_TASKLETS);
  });
});

describe('the drain routine', () => {
  /** Machine time that moves only when the routine sleeps. */
  const clock = (): MachineClock & { t: number } => ({
    t: 0,
    now() {
      return this.t;
    },
    async sleep(ms: number) {
      this.t += ms;
    },
  });

  it('returns idle once the machine drains', async () => {
    const c = clock();
    expect(await drain({ clock: c, idle: () => c.t >= 5, timeoutMs: 100 })).toEqual({ status: 'idle' });
    expect(c.t).toBe(5);
  });

  it('gives up at the timeout, with what it found then', async () => {
    const c = clock();
    const stuck = { find: () => (c.t > 95 ? 'x' : null), key: (f: string) => f, forMs: 50 };
    expect(await drain({ clock: c, idle: () => false, timeoutMs: 100, stuck })).toEqual({
      status: 'timeout',
      finding: 'x',
    });
    expect(c.t).toBe(101);
  });

  it('reports a finding that stands for longer than its time, not one that changes', async () => {
    const c = clock();
    const changing = { find: () => `at ${c.t}`, key: (f: string) => f, forMs: 10 };
    expect((await drain({ clock: c, idle: () => false, timeoutMs: 50, stuck: changing })).status).toBe(
      'timeout',
    );
    const c2 = clock();
    const standing = { find: () => 'lost', key: (f: string) => f, forMs: 10 };
    expect(await drain({ clock: c2, idle: () => false, timeoutMs: 50, stuck: standing })).toEqual({
      status: 'stuck',
      finding: 'lost',
    });
    expect(c2.t).toBe(11);
  });

  it('gives up when no tasklet runs for the stall time, and at once when abandoned', async () => {
    const c = clock();
    const progress = { count: () => Math.min(c.t, 20), stallMs: 30 };
    expect(await drain({ clock: c, idle: () => false, timeoutMs: 1000, progress })).toEqual({
      status: 'stalled',
    });
    expect(c.t).toBe(51);
    const c2 = clock();
    expect(await drain({ clock: c2, idle: () => false, timeoutMs: 1000, abandon: () => c2.t >= 3 })).toEqual({
      status: 'abandoned',
    });
  });
});

describe('findings as violations', () => {
  const names: TaskletNames = { index: (id) => (id >= 10 && id < 14 ? id - 10 : -1), name: (i) => `t${i}` };

  it('a lost tasklet breaks G4, a tasklet queued twice or a looping queue G11', () => {
    expect(findingViolation({ kind: 'lost', tasklet: 12 }, names)).toEqual({
      oracle: 'at-least-once',
      guarantee: 4,
      tasklet: 2,
      cpus: [],
      message: 't2 has SCHED set but is on no queue and not running: its run was lost',
    });
    expect(findingViolation({ kind: 'queued-twice', tasklet: 10, cpus: [0, 1] }, names)).toMatchObject({
      oracle: 'structure',
      guarantee: 11,
      tasklet: 0,
      message: 't0 is queued 2 times (on the queues of CPU 0, 1)',
    });
    expect(findingViolation({ kind: 'queue-cycle', cpu: 1, queue: 'hi' }, names)).toMatchObject({
      oracle: 'structure',
      cpus: [1],
    });
  });

  it('a kill waiting on a lost tasklet is G4; on a disabled one it is misuse, not a violation', () => {
    const waiter = { cpu: 1, kind: WaitKind.TaskletSchedClear, tasklet: 11, pid: 7, since: 0 };
    expect(
      findingViolation({ kind: 'stuck-waiter', tasklet: 11, waiter, reason: 'lost' }, names),
    ).toMatchObject({
      oracle: 'at-least-once',
      tasklet: 1,
      cpus: [1],
      message:
        't1 has SCHED set but is on no queue and not running: its run was lost (tasklet_kill on CPU1 waits forever)',
    });
    expect(
      findingViolation({ kind: 'stuck-waiter', tasklet: 11, waiter, reason: 'disabled' }, names),
    ).toBeNull();
  });

  it('a tasklet on a queue whose CPU has its softirq neither pending nor in service is stranded (G4)', async () => {
    const memory = createMemory({ nrCpus: 2, maxTasklets: 16 });
    const view = new MachineView(memory);
    const { mem, layout } = memory;
    const clock: MachineClock = { now: () => 0, sleep: async () => {} };
    mem[G_ONLINE_MASK] = 0b11;
    mem[layout.tasklet(11) + T_STATE] = 1; // SCHED
    mem[layout.cpu(1) + C_VEC_HEAD] = 12;
    mem[layout.cpu(1) + C_VEC_TAIL] = layout.tasklet(11) + T_NEXT;
    expect(await strandedViolation(view, clock, [11], names)).toMatchObject({
      oracle: 'at-least-once',
      guarantee: 4,
      tasklet: 1,
      cpus: [1],
      message:
        "t1 sits on CPU1's tasklet_vec but CPU1 has TASKLET_SOFTIRQ neither pending nor running: no pass will take it",
    });
    // Raised (a schedule appends, then raises), or in service: a pass will take it.
    mem[layout.cpu(1) + C_SOFTIRQ_PENDING] = 1 << 6;
    expect(await strandedViolation(view, clock, [11], names)).toBeNull();
    mem[layout.cpu(1) + C_SOFTIRQ_PENDING] = 0;
    mem[layout.cpu(1) + C_PREEMPT_COUNT] = 0x100;
    expect(await strandedViolation(view, clock, [11], names)).toBeNull();
    // A pass between the two looks: not confirmed.
    mem[layout.cpu(1) + C_PREEMPT_COUNT] = 0;
    const passing: MachineClock = {
      now: () => 0,
      sleep: async () => {
        mem[layout.cpu(1) + C_SOFTIRQ_INVOCATIONS]++;
      },
    };
    expect(await strandedViolation(view, passing, [11], names)).toBeNull();
  });

  it('a hang names what each CPU waits for, and where that tasklet is', () => {
    const memory = createMemory({ nrCpus: 2, maxTasklets: 16 });
    const view = new MachineView(memory);
    const { mem, layout } = memory;
    mem[layout.tasklet(11) + T_STATE] = 1;
    mem[layout.cpu(1) + C_VEC_HEAD] = 12;
    mem[layout.cpu(1) + C_WAIT_KIND] = WaitKind.TaskletSchedClear;
    mem[layout.cpu(1) + C_WAIT_TASKLET] = 12;
    mem[layout.cpu(1) + C_WAIT_PID] = 1001;
    // CPU0 waits for nothing published: the report says what it runs, and in what context.
    mem[layout.cpu(0) + C_CURRENT_PID] = 1002;
    mem[layout.cpu(0) + C_PREEMPT_COUNT] = 0x100; // SOFTIRQ_OFFSET: serving a softirq
    mem[layout.cpu(0) + C_IRQS_OFF] = 1;
    mem[G_ONLINE_MASK] = 0b11;
    expect(describeWhere(view, 11)).toBe('now state SCHED, on the queue of CPU 1');
    expect(hangMessage(view, names, 'the machine did not drain', () => ', more')).toBe(
      'hang: the machine did not drain; CPU1 pid 1001 waits (TaskletSchedClear) on t1 (now state SCHED, on the queue of CPU 1, more); CPU0 runs pid 1002 in softirq, irqs off',
    );
  });
});
