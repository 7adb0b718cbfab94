/**
 * The timer and BH work half of the stress workload (harness/stress/bh-*.ts): a timer mutant
 * and a work mutant injected into a stress run are caught online by the oracle of the guarantee
 * they break, and reported through the standard violation path. (The clean run with hotplug in
 * test/stress.test.ts runs these ops too; every timer and work mutant is in `selftest`.)
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX } from '../harness/stress/mix.ts';
import { finalReport } from '../harness/stress/report.ts';
import { runStress } from '../harness/stress/run.ts';
import { STRESS_MUTANTS } from '../harness/stress-mutants.ts';

const stress = (inject: string) =>
  runStress({
    cpus: 2,
    tasklets: 48,
    durationMs: 20_000,
    seed: 11,
    mix: DEFAULT_MIX,
    hotplugMs: 0,
    oracles: true,
    inject,
  });

describe('stress: timer and BH work oracles', () => {
  for (const [mutant, oracle] of [
    ['timer-early', 'timer-early'],
    ['work-queue-while-disabled', 'work-disabled'],
  ] as const) {
    it(`${mutant} is caught by ${oracle} (${STRESS_MUTANTS[mutant].breaks.map((n) => (n > 200 ? `W${n - 200}` : `T${n - 100}`)).join(', ')})`, async () => {
      const result = await stress(mutant);
      expect(result.status).toBe('violation');
      const v = result.violations[0];
      expect(v.oracle).toBe(oracle);
      expect(STRESS_MUTANTS[mutant].breaks).toContain(v.guarantee);
      expect(finalReport(result)).toMatch(/VIOLATION of guarantee [TW]\d \((timer|work)-/);
    }, 60_000);
  }
});
