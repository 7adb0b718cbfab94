/**
 * The mean time of one fuzz program on one machine, campaign machinery aside: programs k..k+n
 * of a seed, generated as a campaign generates them, each `FuzzMachine.run` timed; the first 20
 * (JIT warm-up) are left out of the mean. Then the mean by what a program holds (a hotplug op,
 * a timer op, a work op, or none of them), to show where the time goes.
 *
 *   npx tsx harness/fuzz/program-time.ts [--controlled] [--programs 300] [--seed 11]
 */
import fc from 'fast-check';
import { FuzzMachine } from './executor.ts';
import { delayPlanFor, programArb } from './generate.ts';
import { flatten, type Program } from './program.ts';
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
const kinds = new Map<string, { ms: number; n: number }>();
/** What a program holds, for the breakdown: each kind it has ops of. */
function kindsOf(program: Program): string[] {
  const ops = program.threads.flatMap(flatten);
  const has = (test: (op: (typeof ops)[number]) => boolean): boolean => ops.some(test);
  const found = [
    has((op) => op.op === 'hotplug') ? 'hotplug' : '',
    has((op) => 'x' in op) ? 'timer' : '',
    has((op) => 'w' in op) ? 'work' : '',
  ].filter((k) => k !== '');
  return found.length > 0 ? found : ['tasklet ops only'];
}
for (let k = 0; k < WARMUP + programs; k++) {
  const s = programSeed(seed, k);
  const [program] = fc.sample(arbitrary, { seed: s, numRuns: 1 });
  const plan = controlled ? { strategy: 'pct' as const, seed: s, expectedSteps: 3000 } : undefined;
  const started = performance.now();
  await machine.run(program, delayPlanFor(s), plan);
  if (k < WARMUP) continue;
  const ms = performance.now() - started;
  total += ms;
  for (const kind of kindsOf(program)) {
    const entry = kinds.get(kind) ?? { ms: 0, n: 0 };
    kinds.set(kind, { ms: entry.ms + ms, n: entry.n + 1 });
  }
}
await machine.shutdown();
console.log(
  `${controlled ? 'controlled (pct)' : 'free-running'}: ${(total / programs).toFixed(2)} ms a program ` +
    `(programs ${WARMUP}-${WARMUP + programs - 1} of seed ${seed}, 2 CPUs, ${machine.boots} boot(s))`,
);
for (const [kind, { ms, n }] of kinds)
  console.log(`  with ${kind}: ${(ms / n).toFixed(2)} ms a program (${n} programs)`);
