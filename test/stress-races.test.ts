/**
 * Two stress ops that line up races independent ops seldom meet. The kill pair: two
 * tasklet_kill calls of one tasklet at once, from process context on two CPUs; the second to
 * find SCHED taken sleeps until the first one's tasklet_clear_sched wakes it, so a kill that
 * clears SCHED without wake_up_var (kill-no-wake) leaves it asleep for good. The contended
 * trylock: tasklet_trylock again and again on a tasklet that other CPUs' interrupts schedule, so
 * that it meets tasklet_action's trylock on another CPU (racy-trylock: both win).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX, type Mix, OPS } from '../harness/stress/mix.ts';
import { runStress } from '../harness/stress/run.ts';

const only = (weights: Partial<Mix>): Mix => ({
  ...(Object.fromEntries(OPS.map((op) => [op, 0])) as Mix),
  ...weights,
});
/** Kill pairs, or trylocks, among schedules from the task and from interrupts. */
const KILL_PAIRS = only({ sched: 10, irq: 10, killpair: 20 });
const TRYLOCKS = only({ sched: 10, irq: 10, trylock: 20 });

const stress = (mix: Mix, inject?: string) =>
  runStress({
    cpus: 2,
    tasklets: 24,
    durationMs: inject === undefined ? 2000 : 10_000,
    seed: 11,
    mix,
    hotplugMs: 0,
    oracles: true,
    inject,
  });

describe('stress: kill pairs', () => {
  it('correct code: both kills return, the tasklet idle, and the two were in progress at once', async () => {
    const result = await stress(KILL_PAIRS);
    expect(result.faults).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.coverage!.counts.kill_pair).toBeGreaterThan(0);
    expect(result.coverage!.pairs['kill_pair|kill_pair']).toBeGreaterThan(0);
  });

  it('kill-no-wake: the kill left asleep is reported as the G10 hang it would be', async () => {
    const result = await stress(KILL_PAIRS, 'kill-no-wake');
    expect(result.status).toBe('violation');
    const [first] = result.violations;
    expect(first).toMatchObject({ oracle: 'kill', guarantee: 10 });
    expect(first.message).toMatch(
      /would sleep forever in wait_var_event\(&t->state\) for tasklet \S+: its SCHED bit cleared with no wake_up_var .*: a tasklet_kill on CPU\d waiting for SCHED would never return$/,
    );
  });

  it('the default mix has kill pairs', () => {
    expect(DEFAULT_MIX.killpair).toBeGreaterThan(0);
  });
});

describe('stress: contended trylocks', () => {
  it('correct code: the RUN bit keeps the callback out', async () => {
    const result = await stress(TRYLOCKS);
    expect(result.faults).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.coverage!.pairs['run|trylock']).toBeGreaterThan(0);
  });

  it('racy-trylock: a callback starts while the task holds RUN by tasklet_trylock (G1)', async () => {
    const result = await stress(TRYLOCKS, 'racy-trylock');
    expect(result.status).toBe('violation');
    expect(result.violations[0]).toMatchObject({ oracle: 'mutual-exclusion', guarantee: 1 });
    expect(result.violations[0].message).toMatch(/tasklet_trylock/);
  });
});
