/**
 * Timer scenarios shared by the guarantee tests (test/timers.test.ts, on a correct machine) and
 * the mutant tests (test/timer-mutants.test.ts, where each broken variant must show up). Each
 * returns what it observed through the test module's own words, never the kernel's state.
 */
import { fileURLToPath } from 'node:url';
import type { Machine } from '../machine/index.ts';
import { C_RUNNING_TIMER, C_TIMER_HEAD } from '../shm/layout.ts';
import { until } from './helpers.ts';
import {
  F_EARLY,
  F_INSIDE,
  F_OVERLAPS,
  F_REARM,
  F_REARM_DELAY,
  F_RUNS,
  F_SPIN_US,
  FIELDS,
  TIMERS,
} from './modules/timers-layout.ts';

export const timersModule = fileURLToPath(new URL('./modules/timers.ts', import.meta.url));

const words = (m: Machine): Int32Array => m.sharedWords('timers');
export const get = (m: Machine, id: number, field: number): number =>
  Atomics.load(words(m), id * FIELDS + field);
export const set = (m: Machine, id: number, field: number, v: number): void => {
  Atomics.store(words(m), id * FIELDS + field, v);
};
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function reset(m: Machine): void {
  words(m).fill(0, 0, TIMERS * FIELDS);
}

export const runsReach = (m: Machine, id: number, n: number, timeoutMs?: number): Promise<void> =>
  until(`timer ${id} ran ${n} times`, () => get(m, id, F_RUNS) >= n, timeoutMs);

/** Waits until every online base is empty and no callback runs. */
export async function quiet(m: Machine): Promise<void> {
  await until('timers quiet', () =>
    m
      .onlineCpus()
      .every((cpu) => m.cpuWord(cpu, C_TIMER_HEAD) === 0 && m.cpuWord(cpu, C_RUNNING_TIMER) === 0),
  );
}

/**
 * T1: a running timer (a long callback on CPU0) re-armed from CPU1, three times; the overlaps
 * seen. A round whose callback ended before the test saw it inside (a busy host) is repeated.
 */
export async function t1Overlaps(m: Machine, id = 7): Promise<number> {
  reset(m);
  await quiet(m);
  for (let round = 0, tries = 0; round < 3 && tries < 10; tries++) {
    const before = get(m, id, F_RUNS);
    set(m, id, F_SPIN_US, 50_000);
    await m.call(0, 'arm', { id, delay: 1 });
    await until(`timer ${id} inside`, () => get(m, id, F_INSIDE) === 1 || get(m, id, F_RUNS) > before);
    set(m, id, F_SPIN_US, 0);
    const inside = get(m, id, F_INSIDE) === 1;
    await m.call(1, 'arm', { id, delay: 0 });
    await runsReach(m, id, before + 2);
    await quiet(m);
    if (inside) round++;
  }
  return get(m, id, F_OVERLAPS);
}

/** T2: timers armed 2 jiffies ahead, twenty times on each CPU; the runs seen before expires. */
export async function t2Early(m: Machine): Promise<number> {
  reset(m);
  for (let i = 0; i < 20; i++) {
    for (const cpu of [0, 1]) await m.call(cpu, 'arm', { id: cpu, delay: 2 });
    await runsReach(m, 0, i + 1);
    await runsReach(m, 1, i + 1);
  }
  return get(m, 0, F_EARLY) + get(m, 1, F_EARLY);
}

/**
 * T3: a timer that re-arms itself forever with a long callback; del_timer_sync from CPU1 while
 * it runs, three times. What was seen right after each return (inside, pending) and whether it
 * ran again afterwards.
 */
export async function t3AfterDelSync(
  m: Machine,
  id = 2,
): Promise<{ inside: number; pending: number; ranAfter: number }> {
  reset(m);
  await quiet(m);
  set(m, id, F_SPIN_US, 5_000);
  set(m, id, F_REARM, 1_000_000);
  set(m, id, F_REARM_DELAY, 0);
  const seen = { inside: 0, pending: 0, ranAfter: 0 };
  for (let i = 0; i < 3; i++) {
    await m.call(0, 'arm', { id, delay: 1 });
    await until(`timer ${id} inside`, () => get(m, id, F_INSIDE) === 1);
    const peek = (await m.runTask(1, 'delSyncPeek', { id })) as {
      inside: number;
      pending: boolean;
      runs: number;
    };
    seen.inside += peek.inside;
    seen.pending += peek.pending ? 1 : 0;
    await pause(30);
    if (get(m, id, F_RUNS) !== peek.runs) seen.ranAfter++;
    // Whatever a broken del_timer_sync left behind: stop it for the next round.
    set(m, id, F_REARM, 0);
    await m.runTask(1, 'delSyncPeek', { id });
    await until(`timer ${id} idle`, () => get(m, id, F_INSIDE) === 0);
    await m.runTask(1, 'delSyncPeek', { id });
    set(m, id, F_REARM, 1_000_000);
  }
  set(m, id, F_REARM, 0);
  return seen;
}

/** T4: one arm on CPU1 and five re-arms from the callback; the runs seen once quiet. */
export async function t4Runs(m: Machine, id = 6): Promise<number> {
  reset(m);
  set(m, id, F_REARM, 5);
  set(m, id, F_REARM_DELAY, 1);
  await m.call(1, 'arm', { id, delay: 1 });
  const idle = (): boolean =>
    m
      .onlineCpus()
      .every((cpu) => m.cpuWord(cpu, C_TIMER_HEAD) === 0 && m.cpuWord(cpu, C_RUNNING_TIMER) === 0);
  // Done: six runs, or it ran and nothing is pending any more (a lost re-arm).
  await until(`timer ${id} done`, () => get(m, id, F_RUNS) >= 6 || (get(m, id, F_RUNS) > 0 && idle()));
  await pause(20);
  await quiet(m);
  return get(m, id, F_RUNS);
}

/** T5 on a 3-CPU machine: four timers armed on CPU2, which goes offline; whether CPU2's base still holds timers. */
export async function t5LeftOnDeadCpu(m: Machine): Promise<boolean> {
  reset(m);
  // Far enough ahead (4 s at HZ=250) that they are still pending when CPU2 is down, on a busy host too.
  for (let id = 0; id < 4; id++) await m.call(2, 'arm', { id, delay: 1000 + id });
  await m.cpuDown(2);
  return m.cpuWord(2, C_TIMER_HEAD) !== 0;
}

/**
 * T6: what mod_timer, mod_timer_pending, del_timer and del_timer_sync return, for a timer far
 * ahead (a busy host cannot let it fire between the calls): from idle, pending (the same expiry
 * too, in one interrupt), deleted, idle again. A correct machine returns T6_RETURNS.
 */
export const T6_RETURNS = [false, true, true, true, true, false, false, false, true, false];

export async function t6Returns(m: Machine, id = 6): Promise<boolean[]> {
  reset(m);
  await quiet(m);
  const seen: boolean[] = [];
  const call = async (cpu: number, name: string, arg: object): Promise<void> => {
    seen.push(...[await m.call(cpu, name, arg)].flat().map(Boolean));
  };
  await call(0, 'arm', { id, delay: 2000 }); // mod_timer, idle: false
  await call(1, 'arm_many', { ids: [id, id], delays: [3000, 3000] }); // pending; the same expiry: true, true
  await call(0, 'arm_pending', { id, delay: 2500 }); // mod_timer_pending, pending: true
  await call(1, 'del', { id }); // del_timer, pending: true
  await call(1, 'del', { id }); // idle: false
  await call(0, 'arm_pending', { id, delay: 1 }); // idle stays idle: false
  await call(0, 'arm', { id, delay: 2000 }); // idle: false
  const peek = (await m.runTask(0, 'delSyncPeek', { id })) as { ret: boolean };
  seen.push(peek.ret); // del_timer_sync, pending: true
  seen.push(Boolean(await m.call(0, 'pending', { id }))); // and it is idle after: false
  return seen;
}
