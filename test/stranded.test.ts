/**
 * The stranded-tasklet finding (machine/view.ts, harness/oracles/findings.ts): a task sleeps in
 * tasklet_kill on a tasklet that sits on a CPU's queue while that CPU has no softirq raised for
 * it, so no pass will ever take it. wrong-cpu makes one for real: CPU0's schedule appends to
 * CPU1's queue but raises TASKLET_SOFTIRQ on CPU0. On a correct machine the same steps end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { injectMutant } from '../harness/inject.ts';
import { confirmed, findingViolation } from '../harness/oracles/findings.ts';
import { MachineView } from '../machine/view.ts';
import { boot, pf, resetProbe, until } from './helpers.ts';
import { F_RUNS } from './modules/probe-layout.ts';

const ID = 5;
const names = { index: (id: number) => id, name: (i: number) => `t${i}` };

describe('a tasklet stranded on a queue with no softirq raised', () => {
  let kill: Promise<unknown> | null = null;
  afterEach(async () => {
    await kill?.catch(() => {});
    kill = null;
  });

  it('wrong-cpu: the kill on CPU1 waits forever, and the view names it a broken G4', async () => {
    const m = await boot({ ...injectMutant('wrong-cpu') });
    resetProbe(m, ID);
    await m.call(0, 'schedule', { id: ID });
    kill = m.runTask(1, 'kill', { id: ID }, 3000);
    const view = new MachineView(m.memory);
    const stranded = () =>
      view.findings([ID]).find((f) => f.kind === 'stuck-waiter' && f.reason === 'stranded');
    await until('the kill to wait on the stranded tasklet', () => stranded() !== undefined, 3000);
    const finding = stranded()!;
    expect(finding).toMatchObject({ tasklet: ID, waiter: { cpu: 1 }, on: { cpu: 1, queue: 'normal' } });
    expect(await confirmed(view, m, finding)).toBe(true);
    expect(findingViolation(finding, names)).toMatchObject({
      oracle: 'at-least-once',
      guarantee: 4,
      message: expect.stringMatching(
        /^t5 sits on CPU1's tasklet_vec but CPU1 has TASKLET_SOFTIRQ neither pending nor running: no pass will take it \(tasklet_kill on CPU1 waits forever\)$/,
      ),
    });
    // Any TASKLET_SOFTIRQ raised on CPU1 sets it free (the schedule itself goes to CPU0).
    await m.call(1, 'schedule', { id: ID + 1 });
    await kill;
    expect(view.taskletState(ID)).toBe(0);
  });

  it('a correct machine: the same schedule and kill end, and nothing is ever stranded', async () => {
    const m = await boot();
    resetProbe(m, ID);
    const view = new MachineView(m.memory);
    await m.call(0, 'schedule', { id: ID });
    let returned = false;
    kill = m.runTask(1, 'kill', { id: ID }, 3000).then(() => {
      returned = true;
    });
    let seen = false;
    await until('the kill to return', () => {
      seen ||= view.findings([ID]).some((f) => f.kind === 'stuck-waiter');
      return returned;
    });
    expect(seen).toBe(false);
    expect(view.taskletState(ID)).toBe(0);
  });
});

describe('a CPU that idles with tasklets queued and their softirq not pending', () => {
  const STRANDED =
    /^softirq: CPU1 idles with tasklets on its tasklet_vec and TASKLET_SOFTIRQ not pending: no pass will take them until something raises it$/;

  it('says so as it idles (a raise lost: the tasklet waits for the next one, which traffic hides)', async () => {
    const log: string[] = [];
    const m = await boot({ onPrintk: (_cpu, _level, text) => log.push(text) });
    const reports = () => log.filter((text) => /idles with tasklets/.test(text));
    resetProbe(m, ID);
    await m.call(1, 'schedule', { id: ID });
    await m.call(1, 'schedule', { id: ID + 1, hi: true });
    await until('both runs', () => pf(m, ID, F_RUNS) === 1 && pf(m, ID + 1, F_RUNS) === 1);
    await m.call(1, 'scheduleUnraised', { id: ID + 2 });
    await until('the report', () => reports().length === 1);
    expect(reports()[0]).toMatch(STRANDED);
    expect(pf(m, ID + 2, F_RUNS)).toBe(0);
    // The next raise on CPU1 takes it.
    await m.call(1, 'schedule', { id: ID });
    await until('its run', () => pf(m, ID + 2, F_RUNS) === 1);
    expect(reports()).toHaveLength(1);
  });
});
