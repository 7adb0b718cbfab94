/**
 * MachineOptions.deepInlining: a larger TurboFan inlining budget while such a machine runs.
 *
 * A tasklet run is some 70 calls of small functions (an interrupt point at every shared access,
 * the irq flag's save and restore, the ops table, counters, tracepoints). TurboFan inlines them
 * only while a function's budget lasts (920 bytecodes by default); each call past it is a real
 * one. With a larger budget the whole path folds into the softirq loop: 35-45 % less CPU time
 * per run in a long dispatch loop (bench/count/cpu-per-run.ts). Short, varied work recompiles
 * more and pays for it (fuzz programs run 25-65 % slower), so it is opt-in.
 *
 * V8's flags belong to the process: the budget is raised for every thread while at least one
 * such machine of this thread runs, and put back (as the command line set it, or V8's default)
 * when the last one shuts down. Code compiled meanwhile keeps what it inlined.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Flag name → [value while raised, V8 11's default]. Enough for the dispatch path, no more: the
 * budget is also compile time, on a background thread that competes with busy CPUs for the
 * host's cores. At 2000/10000/20000 the softirq loop took 0.7-1 s to compile, and a 2-CPU
 * machine on 2 host cores some 3.5 s to reach its steady rate; at these values 0.2 s and under
 * 1 s, for the same steady cost per run.
 */
const BUDGET: Record<string, [number, number]> = {
  'max-inlined-bytecode-size': [1000, 460],
  'max-inlined-bytecode-size-cumulative': [4000, 920],
  'max-inlined-bytecode-size-absolute': [8000, 4600],
};

let holders = 0;

/** What the process was started with, else V8's default. */
function original(flag: string, fallback: number): number {
  const given = process.execArgv.find((arg) => arg.startsWith(`--${flag}=`));
  return given === undefined ? fallback : Number(given.slice(flag.length + 3));
}

function set(pick: (flag: string, raised: number, fallback: number) => number): void {
  for (const [flag, [raised, fallback]] of Object.entries(BUDGET))
    setFlagsFromString(`--${flag}=${pick(flag, raised, fallback)}`);
}

/** Before the CPUs start (V8 reads the budget when it optimizes). */
export function acquireDeepInlining(): void {
  if (holders++ === 0) set((_, raised) => raised);
}

export function releaseDeepInlining(): void {
  if (--holders === 0) set((flag, _, fallback) => original(flag, fallback));
}
