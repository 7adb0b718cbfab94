/**
 * Stress's kill pair: two tasklet_kill calls of one tasklet at once, from process context on two
 * CPUs. The second to find SCHED taken sleeps until the first one's tasklet_clear_sched wakes
 * it. A kill that clears SCHED without wake_up_var (kill-no-wake) leaves that one asleep for
 * good, and no other stress op makes a kill wait on another kill.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX, type Mix, OPS } from '../harness/stress/mix.ts';
import { runStress } from '../harness/stress/run.ts';

const only = (weights: Partial<Mix>): Mix => ({
  ...(Object.fromEntries(OPS.map((op) => [op, 0])) as Mix),
  ...weights,
});
/** Kill pairs among schedules from the task and from interrupts. */
const KILL_PAIRS = only({ sched: 10, irq: 10, killpair: 20 });

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
