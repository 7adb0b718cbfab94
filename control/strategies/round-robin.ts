/** rr: each CPU in turn keeps the baton for `quantum` decisions, then the next enabled CPU's turn. */
import { I_QUANTUM, I_RR_LEFT, Strategy } from '../block.ts';
import { candidates, isCandidate } from '../candidates.ts';
import type { SchedulingStrategy } from '../strategy.ts';

export const roundRobin: SchedulingStrategy = {
  id: Strategy.RoundRobin,
  fair: 'first',
  begin(b, plan) {
    b.i32[I_QUANTUM] = Math.max(1, plan.quantum ?? 1);
    b.i32[I_RR_LEFT] = 0;
  },
  pick(b, n, me, meRunnable, _meStep, nrCpus) {
    if (meRunnable && b.i32[I_RR_LEFT] > 0) {
      b.i32[I_RR_LEFT]--;
      return me;
    }
    b.i32[I_RR_LEFT] = b.i32[I_QUANTUM] - 1;
    // Counting modulo nrCpus + 1 gives the controller (id nrCpus) a place in the ring too.
    for (let d = 1; d <= nrCpus; d++) {
      const cpu = (me + d) % (nrCpus + 1);
      if (cpu < nrCpus && isCandidate(n, cpu)) return cpu;
    }
    return candidates.cpus[0];
  },
};
