/**
 * PCT (Burckhardt et al., ASPLOS 2010): each CPU gets a distinct random priority d..d+n-1 and
 * the highest-priority enabled CPU runs; at each of d-1 change points, drawn uniformly in
 * [1, k] decisions, the running CPU drops to priority i, below every other. A bug of depth d
 * is found with probability at least 1/(n k^(d-1)) per run.
 */
import { D_CHANGE_POINTS, I_DEPTH, IC_PRIORITY, MAX_DEPTH, Strategy } from '../block.ts';
import { candidates } from '../candidates.ts';
import { DEFAULT_DEPTH, DEFAULT_EXPECTED_STEPS } from '../plan.ts';
import type { SchedulingStrategy } from '../strategy.ts';

export const pct: SchedulingStrategy = {
  id: Strategy.Pct,
  fair: 'first',
  begin(b, plan, rand) {
    const depth = plan.depth ?? DEFAULT_DEPTH;
    const nrCpus = b.params.nrCpus;
    b.i32[I_DEPTH] = depth;
    const order = Array.from({ length: nrCpus }, (_, cpu) => cpu);
    for (let k = nrCpus - 1; k > 0; k--) {
      const j = rand() % (k + 1);
      [order[k], order[j]] = [order[j], order[k]];
    }
    order.forEach((cpu, rank) => {
      b.i32[b.icpu(cpu) + IC_PRIORITY] = depth + rank;
    });
    const k = Math.max(1, Math.round(plan.expectedSteps ?? DEFAULT_EXPECTED_STEPS));
    for (let i = 0; i < MAX_DEPTH; i++) b.f64[D_CHANGE_POINTS + i] = i < depth - 1 ? 1 + (rand() % k) : -1;
  },
  stepped(b, me, steps) {
    for (let i = 0; i < b.i32[I_DEPTH] - 1; i++)
      if (b.f64[D_CHANGE_POINTS + i] === steps) b.i32[b.icpu(me) + IC_PRIORITY] = i + 1;
  },
  pick(b, n) {
    const { cpus } = candidates;
    let best = cpus[0];
    let bestPriority = b.i32[b.icpu(best) + IC_PRIORITY];
    for (let k = 1; k < n; k++) {
      const priority = b.i32[b.icpu(cpus[k]) + IC_PRIORITY];
      if (priority > bestPriority) {
        best = cpus[k];
        bestPriority = priority;
      }
    }
    return best;
  },
};
