/**
 * BH work scenarios shared by the guarantee tests (test/workqueue.test.ts) and the mutant tests
 * (test/work-mutants.test.ts). Each returns what it observed through the module's own words.
 */
import { fileURLToPath } from 'node:url';
import type { Machine } from '../machine/index.ts';
import { MachineView } from '../machine/view.ts';
import { C_HEARTBEAT, WaitKind } from '../shm/layout.ts';
import { until } from './helpers.ts';
import {
  F_CPU,
  F_INSIDE,
  F_OVERLAPS,
  F_RELEASED,
  F_REQUEUE,
  F_RUNS,
  F_SPIN_US,
  FIELDS,
  SPIN_HOLD,
  WORDS,
} from './modules/works-layout.ts';

export const worksModule = fileURLToPath(new URL('./modules/works.ts', import.meta.url));
const words = (m: Machine): Int32Array => m.sharedWords('works');
export const get = (m: Machine, id: number, field: number): number =>
  Atomics.load(words(m), id * FIELDS + field);
export const word = (m: Machine, w: number): number => Atomics.load(words(m), w);
export const set = (m: Machine, id: number, field: number, v: number): void => {
  Atomics.store(words(m), id * FIELDS + field, v);
};
export const reset = (m: Machine): void => {
  words(m).fill(0, 0, WORDS);
};
export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const runsReach = (m: Machine, id: number, n: number): Promise<void> =>
  until(`work ${id} ran ${n} times`, () => get(m, id, F_RUNS) >= n);

/**
 * Work `id` runs on (SPIN_HOLD) while `act` runs a task on `cpu`; it is let go once that task
 * waits for it (WorkFlush) or has returned without waiting. No timing: the run is in progress
 * whenever the task looks, on a host however busy.
 */
export async function whileHeld<T>(m: Machine, id: number, cpu: number, act: () => Promise<T>): Promise<T> {
  const task = watchTask(m, cpu, act);
  try {
    await until(`CPU${cpu} waits for work ${id} or returns`, () => task.returned || task.waiting());
  } finally {
    set(m, id, F_SPIN_US, 0);
  }
  return task.result;
}

/** A task started on `cpu`: whether it returned, whether it waits for a work item now. */
function watchTask<T>(m: Machine, cpu: number, act: () => Promise<T>) {
  const view = new MachineView(m.memory);
  const task = {
    returned: false,
    result: act().finally(() => {
      task.returned = true;
    }),
    waiting: (): boolean => view.waiters().some((w) => w.cpu === cpu && w.kind === WaitKind.WorkFlush),
    /** Turns of its wait loop (each one looks at the condition again), or of the CPU's loop. */
    heartbeat: (): number => view.cpuWord(cpu, C_HEARTBEAT),
  };
  return task;
}

/** Queues work `id` on CPU0 to run on until let go (whileHeld), once it is inside. */
export async function queueHeld(m: Machine, id: number): Promise<void> {
  set(m, id, F_SPIN_US, SPIN_HOLD);
  await m.call(0, 'queue', { id });
  await until(`work ${id} inside`, () => get(m, id, F_INSIDE) === 1);
}

export interface Peek {
  ret: boolean;
  inside: number;
  pending: boolean;
  runs: number;
}

/**
 * W1: a long run on CPU0 queued again from CPU1, three times: the overlaps and the CPUs of the
 * second runs. A round whose run ended before the test saw it inside (a busy host) is repeated.
 */
export async function w1Reentry(m: Machine, id = 5): Promise<{ overlaps: number; cpus: number[] }> {
  reset(m);
  const cpus: number[] = [];
  for (let tries = 0; cpus.length < 3 && tries < 10; tries++) {
    const before = get(m, id, F_RUNS);
    set(m, id, F_SPIN_US, 50_000);
    await m.call(0, 'queue', { id });
    await until(`work ${id} inside`, () => get(m, id, F_INSIDE) === 1 || get(m, id, F_RUNS) > before);
    set(m, id, F_SPIN_US, 0);
    const inside = get(m, id, F_INSIDE) === 1;
    await m.call(1, 'queue', { id });
    await runsReach(m, id, before + 2);
    await until(`work ${id} idle`, () => get(m, id, F_INSIDE) === 0);
    if (inside) cpus.push(get(m, id, F_CPU));
  }
  return { overlaps: get(m, id, F_OVERLAPS), cpus };
}

/** W2: cancel_work_sync from CPU1 on a self-requeueing work running on CPU0: what it saw, and whether it ran after. */
export async function w2CancelSync(m: Machine, id = 6): Promise<{ peek: Peek; ranAfter: boolean }> {
  reset(m);
  set(m, id, F_REQUEUE, 1_000_000);
  await queueHeld(m, id);
  const peek = (await whileHeld(m, id, 1, () => m.runTask(1, 'cancelSyncPeek', { id }))) as Peek;
  await pause(30);
  const ranAfter = get(m, id, F_RUNS) !== peek.runs;
  set(m, id, F_REQUEUE, 0);
  await m.runTask(1, 'cancelSyncPeek', { id });
  await until(`work ${id} idle`, () => get(m, id, F_INSIDE) === 0);
  return { peek, ranAfter };
}

/**
 * W3: a run on CPU0 held until the test lets go, queued again from CPU1, then flush_work from
 * CPU1: what the flush saw on return. A correct flush waits for both runs; the second run is
 * held too until the flush has looked again after the first, so a flush that stops early is
 * seen, on a host however busy.
 */
export async function w3FlushQueued(m: Machine, id = 2): Promise<{ queued: boolean; peek: Peek }> {
  reset(m);
  await queueHeld(m, id);
  // Pending behind the run in progress: it goes to CPU0, to run there once this run ends.
  const queued = (await m.call(1, 'queue', { id })) as boolean;
  const flush = watchTask(m, 1, () => m.runTask(1, 'flushPeek', { id }) as Promise<Peek>);
  try {
    await until('CPU1 flushes', () => flush.returned || flush.waiting());
    set(m, id, F_RELEASED, 1); // the first run ends; the queued one starts and is held
    await until(
      'the queued run starts',
      () => flush.returned || (get(m, id, F_RUNS) === 1 && get(m, id, F_INSIDE) === 1),
    );
    // A flush still waiting has looked again since the first run ended (two more turns): it
    // waits for the queued run. A flush that stops at the first run has returned by then.
    const turns = flush.heartbeat();
    await until('CPU1 looks again', () => flush.returned || flush.heartbeat() - turns >= 2);
  } finally {
    set(m, id, F_SPIN_US, 0);
  }
  const peek = await flush.result;
  await until(`work ${id} idle`, () => get(m, id, F_INSIDE) === 0 && get(m, id, F_RUNS) >= 2);
  return { queued, peek };
}

/** W4: queue, disable twice, queue, enable twice (one interrupt each step): the results and the runs seen. */
export async function w4Disabled(m: Machine, id = 3): Promise<{ results: unknown; runs: number }> {
  reset(m);
  const results = await m.call(0, 'ops', [
    { op: 'queue', id },
    { op: 'disable', id },
    { op: 'disable', id },
    { op: 'queue', id },
    { op: 'pending', id },
  ]);
  await m.call(0, 'ops', [
    { op: 'enable', id },
    { op: 'enable', id },
  ]);
  await pause(30);
  return { results, runs: get(m, id, F_RUNS) };
}

/**
 * A flush that sleeps through a held run on CPU0 (long past its spins) while CPU1 waits: the
 * lost wake-up reports the run's end would bring, if its wake-up never came (empty: none).
 */
export async function flushWakeReports(m: Machine, id = 3): Promise<string[]> {
  reset(m);
  const view = new MachineView(m.memory);
  m.dmesg.length = 0;
  await queueHeld(m, id);
  const flush = m.runTask(1, 'flushPeek', { id });
  try {
    await until('CPU1 waits in flush_work', () =>
      view.waiters().some((w) => w.cpu === 1 && w.kind === WaitKind.WorkFlush),
    );
    await new Promise((r) => setTimeout(r, 30)); // asleep by now, not spinning
  } finally {
    set(m, id, F_SPIN_US, 0);
  }
  await flush;
  return m.dmesg.filter((l) => /would sleep forever/.test(l.text)).map((l) => l.text);
}
