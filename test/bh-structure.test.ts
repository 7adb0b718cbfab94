/**
 * The drain's list checks on a quiet machine (harness/oracles/bh-structure.ts, staleTailFinding):
 * clean lists pass; each broken link a forgotten update would leave is named. The links are
 * broken by hand in shared memory and put back, so the machine goes on as before.
 */
import { describe, expect, it } from 'vitest';
import { bhStructureFinding } from '../harness/oracles/bh-structure.ts';
import { staleTailFinding, type TaskletNames } from '../harness/oracles/findings.ts';
import { MachineView } from '../machine/view.ts';
import { C_BH_HEAD, C_TIMER_HEAD, C_VEC_HEAD, T_NEXT, TM_LIST, TM_NEXT, TM_PREV } from '../shm/layout.ts';
import { boot } from './helpers.ts';
import { timersModule } from './timer-scenarios.ts';
import { worksModule } from './work-scenarios.ts';

const names: TaskletNames = { index: (id) => id, name: (i) => `t${i}` };

describe('list checks at the drain', () => {
  it('name a stale tasklet queue tail, a broken timer list and a worklist tail; pass clean lists', async () => {
    const m = await boot({ cpus: 2, modules: [timersModule, worksModule] });
    const { mem, layout } = m.memory;
    const view = new MachineView(m.memory);
    /** Breaks word `at` to `value` for the length of `look`, then puts it back. */
    const broken = <T>(at: number, value: number, look: () => T): T => {
      const before = Atomics.exchange(mem, at, value);
      try {
        return look();
      } finally {
        Atomics.store(mem, at, before);
      }
    };
    await m.call(0, 'arm', { id: 0, delay: 100_000 });
    await m.call(0, 'arm', { id: 1, delay: 200_000 });
    expect(staleTailFinding(view, names)).toBeNull();
    expect(bhStructureFinding(m.memory)).toBeNull();

    // A tasklet queue, empty, whose tail still points at a tasklet's next field.
    const vecTail = layout.cpu(1) + C_VEC_HEAD + 1;
    expect(broken(vecTail, layout.tasklet(3) + T_NEXT, () => staleTailFinding(view, names)?.message)).toBe(
      "CPU1's tasklet_vec is empty but its tail points at the next field of t3, not at its head: the next tasklet_schedule there appends where no pass looks",
    );

    // The timer list: the second timer's prev link lost; the first one's list word pointing nowhere.
    const first = Atomics.load(mem, layout.cpu(0) + C_TIMER_HEAD) - 1;
    const second = Atomics.load(mem, layout.timer(first) + TM_NEXT) - 1;
    expect(broken(layout.timer(second) + TM_PREV, 0, () => bhStructureFinding(m.memory)?.message)).toMatch(
      new RegExp(`timer #${second} on CPU0's timer pending list: its prev link is 0, not ${first + 1}`),
    );
    expect(broken(layout.timer(first) + TM_LIST, 7, () => bhStructureFinding(m.memory)?.message)).toMatch(
      new RegExp(`timer #${first} is on CPU0's timer pending list, but its list word names another list`),
    );

    // An empty worklist whose tail word still names a work item.
    expect(broken(layout.cpu(0) + C_BH_HEAD + 1, 5, () => bhStructureFinding(m.memory)?.message)).toBe(
      "CPU0's events_bh worklist's tail word is 5, not its last entry 0: the next queue_work there appends where no worker looks",
    );

    // Put back: clean again.
    expect(staleTailFinding(view, names)).toBeNull();
    expect(bhStructureFinding(m.memory)).toBeNull();
  });
});
