/**
 * The mean time of one fuzz program on one machine, campaign machinery aside: programs k..k+n
 * of a seed, generated as a campaign generates them, each `FuzzMachine.run` timed; the first 20
 * (JIT warm-up) are left out of the mean.
 *
 *   npx tsx harness/fuzz/program-time.ts [--controlled] [--programs 300] [--seed 11]
 */
import fc from 'fast-check';
import { FuzzMachine } from './executor.ts';
import { delayPlanFor, programArb } from './generate.ts';
import { programSeed } from './shard.ts';

const WARMUP = 20;
const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const controlled = process.argv.includes('--controlled');
const programs = arg('--programs', 300);
const seed = arg('--seed', 11);

const machine = new FuzzMachine({ cpus: 2, controlled: controlled ? { strategy: 'pct', seed } : undefined });
const arbitrary = programArb(2);
let total = 0;
for (let k = 0; k < WARMUP + programs; k++) {
  const s = programSeed(seed, k);
  const [program] = fc.sample(arbitrary, { seed: s, numRuns: 1 });
  const plan = controlled ? { strategy: 'pct' as const, seed: s, expectedSteps: 3000 } : undefined;
  const started = performance.now();
  await machine.run(program, delayPlanFor(s), plan);
  if (k >= WARMUP) total += performance.now() - started;
}
await machine.shutdown();
console.log(
  `${controlled ? 'controlled (pct)' : 'free-running'}: ${(total / programs).toFixed(2)} ms a program ` +
    `(programs ${WARMUP}-${WARMUP + programs - 1} of seed ${seed}, 2 CPUs, ${machine.boots} boot(s))`,
);
