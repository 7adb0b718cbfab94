/** random: a uniform pick among the enabled CPUs at every decision. */
import { type ControlBlock, I_RNG, Strategy } from '../block.ts';
import { candidates } from '../candidates.ts';
import type { SchedulingStrategy } from '../strategy.ts';

/** mulberry32 over the shared seed word. */
function nextRandom(b: ControlBlock): number {
  const s = (b.i32[I_RNG] + 0x6d2b79f5) | 0;
  b.i32[I_RNG] = s;
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

export const random: SchedulingStrategy = {
  id: Strategy.Random,
  fair: 'first',
  begin(b, plan) {
    b.i32[I_RNG] = plan.seed | 0;
  },
  pick(b, n) {
    return candidates.cpus[nextRandom(b) % n];
  },
};
