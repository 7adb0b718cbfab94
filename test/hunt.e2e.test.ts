/**
 * The hunts that turn a free-running finding into an exact repro, end to end (tens of seconds
 * each, so apart from `npm test`): a fuzz finding whose program no schedule reproduces falls
 * back to a controlled campaign on the same build; a `stress MODULE` finding is hunted down to
 * a controlled run that gives it every time.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Failure } from '../harness/fuzz/failure.ts';
import { programArb } from '../harness/fuzz/generate.ts';
import { huntControlled } from '../harness/fuzz/hunt.ts';
import type { Program } from '../harness/fuzz/program.ts';
import { findingKey } from '../harness/module/fuzz-run.ts';
import { stressModule } from '../harness/module/stress.ts';
import { huntModuleStress, moduleHuntReport } from '../harness/module/stress-hunt.ts';

const example = (name: string): string => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

describe('fuzz: the hunt for an exact repro of a free-running finding', () => {
  it('a finding its program cannot cause (one schedule op) gets no schedule, and the controlled campaign on the same build repros the guarantee exactly', async () => {
    // The case: a G8 finding attributed to a one-op program. A lone schedule cannot run
    // a disabled tasklet, so no schedule of it reproduces; no-count-check breaks G8 for real.
    const program: Program = {
      cpus: 2,
      tasklets: [{ mode: 'shared-disable', owner: 0, resched: 0, reschedHi: false, busyUs: 0 }],
      threads: [[{ op: 'schedule', t: 0 }], []],
    } as Program;
    const failure: Failure = {
      index: 7,
      programSeed: 1234,
      delays: { seed: 1234, permille: 0, maxUs: 0 },
      original: program,
      program,
      violation: {
        oracle: 'disabled',
        guarantee: 8,
        tasklet: 0,
        cpus: [1],
        message: 'as found free-running',
      },
      foundAfterMs: 1,
      foundAfterRuns: 1,
      shrinkSteps: 0,
      shrinkMs: 0,
      reproduction: { runs: 10, failures: 1 },
      schedule: null,
    } as Failure;
    const { hunt, failure: exact } = await huntControlled(
      { cpus: 2, inject: 'no-count-check', seed: 1 },
      programArb(2),
      failure,
      16_000,
    );
    expect(hunt).toMatchObject({ oracle: 'disabled', found: true, campaign: { other: false } });
    expect(hunt.tries).toBeGreaterThan(0);
    expect(exact).not.toBeNull();
    expect(exact!.violation.oracle).toBe('disabled');
    expect(exact!.schedule).not.toBeNull();
    expect(exact!.program).not.toEqual(program);
    // Every run reproduces it (the hunt's short budget may cut the measurement to 3 runs or more).
    expect(exact!.reproduction.runs).toBeGreaterThanOrEqual(3);
    expect(exact!.reproduction.failures).toBe(exact!.reproduction.runs);
  }, 120_000);
});

describe('stress MODULE: a free-running finding is hunted down to a controlled run', () => {
  it('examples/rx-counter.ts: the hunt finds a controlled run with the same finding, and that run is the same every time', async () => {
    const free = await stressModule({
      file: example('rx-counter.ts'),
      cpus: 2,
      durationMs: 5000,
      seed: 1,
      hotplugMs: 0,
      warn: 'fail',
      traceCapacity: 0,
    });
    expect(free.status).toBe('violation');
    const hunt = await huntModuleStress(free, { budgetMs: 60_000, tryMs: 2000 });
    expect(hunt).toMatchObject({ found: true, exact: true });
    const repro = hunt.result!;
    expect(repro.options.controlled).toBeDefined();
    expect(findingKey(repro.violations[0])).toBe(findingKey(free.violations[0]));
    expect(repro.violations[0].message).toMatch(/inconsistent lock state/);
    const again = await stressModule(repro.options);
    expect(again.schedule?.traceHash).toBe(repro.schedule?.traceHash);
    expect(moduleHuntReport(hunt)).toContain(
      `--seed ${repro.options.seed} --duration ${repro.options.durationMs}ms --controlled`,
    );
  }, 120_000);
});
