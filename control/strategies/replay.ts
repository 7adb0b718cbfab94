/**
 * replay: follow a recorded decision log. An entry names the switch by who had the baton and
 * that CPU's own decision count, so the log replays whatever the other CPUs' counts are; where
 * the log says nothing, the running CPU goes on.
 *
 * The fairness rule still applies, after the log's pick (decide.ts): the seeded strategy that
 * made the log ran under it, so where the log records a fairness switch the rule makes the same
 * one. Where a shrunk log has lost switches, or past its end, it keeps a spinning CPU from
 * starving the others forever, which the original run never did either.
 */
import {
  FORCED_BIT,
  I_REPLAY_LEN,
  I_REPLAY_POS,
  I_SCHEDULE_RULES,
  L_FROM,
  L_FROM_STEP,
  L_TO,
  LOG_FIELDS,
  Strategy,
} from '../block.ts';
import { candidates, NOT_ENABLED } from '../candidates.ts';
import type { SchedulingStrategy } from '../strategy.ts';

export const replay: SchedulingStrategy = {
  id: Strategy.Replay,
  fair: 'after',
  fairAfter: (b) => b.i32[I_SCHEDULE_RULES] >= 3,
  begin(b, plan) {
    const log = plan.replay ?? [];
    if (log.length > b.replay.length)
      throw new RangeError(
        `the decision log has ${log.length / LOG_FIELDS} entries; at most ${b.replay.length / LOG_FIELDS} fit`,
      );
    b.replay.set(log);
    b.i32[I_REPLAY_LEN] = log.length / LOG_FIELDS;
    b.i32[I_REPLAY_POS] = 0;
  },
  pick(b, _n, me, meRunnable, meStep) {
    const pos = b.i32[I_REPLAY_POS];
    if (pos < b.i32[I_REPLAY_LEN]) {
      const entry = pos * LOG_FIELDS;
      if (b.replay[entry + L_FROM] === me && b.replay[entry + L_FROM_STEP] === meStep) {
        b.i32[I_REPLAY_POS] = pos + 1;
        // Any enabled CPU: fairness may have picked one that was yielding.
        const to = b.replay[entry + L_TO] & (FORCED_BIT - 1);
        if (candidates.classes[to] !== NOT_ENABLED) return to;
      }
    }
    return meRunnable ? me : candidates.cpus[0];
  },
};
