/**
 * Fuzz of a user's module: a program of its entry points breaks G1 on the planted bug of
 * test/modules/unlocker.ts under a controlled schedule, and the repro built from it replays
 * exactly (same finding, same decision log). The program is the one `fuzz --controlled --seed 2`
 * found and shrank; the search itself (a fresh machine per program) is too slow for the suite.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findingOf, type ModuleFinding } from '../harness/module/fuzz.ts';
import { runModuleProgram } from '../harness/module/fuzz-run.ts';
import { huntModuleSchedule } from '../harness/module/hunt.ts';
import type { ModuleProgram } from '../harness/module/program.ts';
import { buildModuleRepro, replayModule } from '../harness/module/repro.ts';

const unlocker = fileURLToPath(new URL('./modules/unlocker.ts', import.meta.url));

const program: ModuleProgram = {
  seed: 0,
  steps: [{ op: 'storm', irq: 2, cpu: 0, us: 61 }],
};

describe('fuzz MODULE', () => {
  it('a program of the module entry points finds G1; its repro replays exactly', async () => {
    const target = { file: unlocker, cpus: 2, params: {}, controlled: { strategy: 'pct' as const, seed: 0 } };
    const outcome = await runModuleProgram(target, program);
    const finding = findingOf(outcome);
    expect(finding).toMatchObject({ oracle: 'mutual-exclusion', name: 'unlocker_tasklet' });
    expect(outcome.schedule?.overflow).toBe(false);

    const repro = buildModuleRepro(
      {
        original: program,
        program,
        outcome,
        index: 1,
        foundAfterMs: 0,
        shrinkRuns: 0,
        shrinkMs: 0,
      },
      { file: unlocker, display: 'unlocker.ts', cpus: 2, params: {}, seed: 2 },
      target.controlled,
    );
    const replayed = await replayModule(JSON.parse(JSON.stringify(repro)), 2);
    expect(replayed).toMatchObject({ times: 2, reproduced: 2, exact: 2 });
  }, 60_000);

  it('a free-running finding is hunted down to a controlled schedule whose repro replays exactly', async () => {
    // The finding as a free-running campaign would hand it over: no schedule.
    const outcome = await runModuleProgram(
      { file: unlocker, cpus: 2, params: {}, controlled: { strategy: 'pct', seed: 0 } },
      program,
    );
    const free: ModuleFinding = {
      original: program,
      program,
      outcome: { ...outcome, schedule: null },
      index: 1,
      foundAfterMs: 0,
      shrinkRuns: 0,
      shrinkMs: 0,
    };
    // shrinkMs 0: the program is already minimal; the suite needs no second shrink of it.
    const options = { file: unlocker, cpus: 2, params: {}, seed: 2, durationMs: 0, shrinkMs: 0 };
    const { hunt, finding } = await huntModuleSchedule(options, free, 30_000);
    expect(hunt).toMatchObject({ found: true, exact: true });
    expect(finding).not.toBeNull();
    expect(findingOf(finding!.outcome)).toMatchObject({
      oracle: 'mutual-exclusion',
      name: 'unlocker_tasklet',
    });
    const repro = buildModuleRepro(
      finding!,
      { file: unlocker, display: 'unlocker.ts', cpus: 2, params: {}, seed: 2 },
      hunt.controlled,
    );
    expect(repro.schedule).toMatchObject({
      strategy: hunt.controlled!.strategy,
      seed: finding!.program.seed,
    });
    const replayed = await replayModule(JSON.parse(JSON.stringify(repro)), 2);
    expect(replayed).toMatchObject({ times: 2, reproduced: 2, exact: 2 });
  }, 90_000);
});
