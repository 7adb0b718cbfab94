/**
 * The timer bases' lists and the BH worklists, walked from shared memory on a drained machine
 * (controller side, no locks: lists-at-fault.ts confirms a finding with a second look). A link that one
 * unlink or append forgot breaks nothing at once: the timer or work item it strands never runs
 * (T4, W5), or the next walk of that list goes astray, long after the bug. Checked here:
 * - a base's pending and expired lists: each timer's list word names that list, its prev link
 *   the timer before it, pending expiries in order, no cycle; a timer whose list word names a
 *   list must be on it; an offline CPU's base is empty (its timers moved at the unplug);
 * - each pool's worklist: every entry PENDING and last queued there, the tail word at the last
 *   entry (0 when empty), no cycle; a PENDING work item is on some worklist.
 */
import {
  C_BH_HEAD,
  C_BH_HI_HEAD,
  C_TIMER_EXPIRED,
  C_TIMER_HEAD,
  G_NR_CPUS,
  G_ONLINE_MASK,
  MAX_TIMERS,
  MAX_WORKS,
  type MachineMemory,
  TaskletAlloc,
  TM_ALLOC,
  TM_EXPIRES_LO,
  TM_LIST,
  TM_NEXT,
  TM_PREV,
  WK_ALLOC,
  WK_NEXT,
  WK_POOL,
  WK_STATE,
  WORK_STRUCT_PENDING,
} from '../../shm/layout.ts';
import { type Violation, violation } from './guarantees.ts';

const poolName = (pool: number): string =>
  `CPU${pool >> 1}'s ${(pool & 1) !== 0 ? 'events_bh_highpri' : 'events_bh'} worklist`;

/** The first broken link of a timer list or worklist, as a violation, or null. */
export function bhStructureFinding(memory: MachineMemory): Violation | null {
  return timerListFinding(memory) ?? worklistFinding(memory);
}

function timerListFinding({ mem, layout }: MachineMemory): Violation | null {
  const load = (at: number): number => Atomics.load(mem, at);
  const expires = (addr: number): number => load(addr + TM_EXPIRES_LO) | 0; // compared mod 2^32
  const listed = new Set<number>();
  const nrCpus = load(G_NR_CPUS);
  for (let cpu = 0; cpu < nrCpus; cpu++) {
    const online = (load(G_ONLINE_MASK + (cpu >> 5)) & (1 << (cpu & 31))) !== 0;
    for (const [offset, list] of [
      [C_TIMER_EXPIRED, 'expired list'],
      [C_TIMER_HEAD, 'pending list'],
    ] as const) {
      const head = layout.cpu(cpu) + offset;
      const where = `CPU${cpu}'s timer ${list}`;
      let prev = 0;
      let n = 0;
      for (let p = load(head); p !== 0; p = load(layout.timer(p - 1) + TM_NEXT)) {
        const id = p - 1;
        const addr = layout.timer(id);
        if (id < 0 || id >= MAX_TIMERS || ++n > MAX_TIMERS)
          return violation('timer-fires', -1, [cpu], `${where} links outside the timer table or loops`);
        if (!online)
          return violation(
            'timer-takeover',
            -1,
            [cpu],
            `${where} still holds timer #${id} after the CPU went offline`,
          );
        if (load(addr + TM_LIST) !== head)
          return violation(
            'timer-fires',
            -1,
            [cpu],
            `timer #${id} is on ${where}, but its list word names another list`,
          );
        if (load(addr + TM_PREV) !== prev)
          return violation(
            'timer-fires',
            -1,
            [cpu],
            `timer #${id} on ${where}: its prev link is ${load(addr + TM_PREV)}, not ${prev} (the entry before it)`,
          );
        if (
          offset === C_TIMER_HEAD &&
          prev !== 0 &&
          ((expires(addr) - expires(layout.timer(prev - 1))) | 0) < 0
        )
          return violation(
            'timer-fires',
            -1,
            [cpu],
            `${where} is out of expiry order at timer #${id}: it would run after a later one`,
          );
        listed.add(id);
        prev = p;
      }
    }
  }
  for (let id = 0; id < MAX_TIMERS; id++) {
    const addr = layout.timer(id);
    if (load(addr + TM_ALLOC) === TaskletAlloc.Free || load(addr + TM_LIST) === 0 || listed.has(id)) continue;
    return violation(
      'timer-fires',
      -1,
      [],
      `timer #${id} is pending (its list word is set) but on no timer list: it never fires`,
    );
  }
  return null;
}

function worklistFinding({ mem, layout }: MachineMemory): Violation | null {
  const load = (at: number): number => Atomics.load(mem, at);
  const listed = new Set<number>();
  const nrCpus = load(G_NR_CPUS);
  for (let pool = 0; pool < nrCpus * 2; pool++) {
    const head = layout.cpu(pool >> 1) + ((pool & 1) !== 0 ? C_BH_HI_HEAD : C_BH_HEAD);
    const where = poolName(pool);
    let last = 0;
    let n = 0;
    for (let p = load(head); p !== 0; p = load(layout.work(p - 1) + WK_NEXT)) {
      const id = p - 1;
      const addr = layout.work(id);
      if (id < 0 || id >= MAX_WORKS || ++n > MAX_WORKS)
        return violation('work-runs', -1, [pool >> 1], `${where} links outside the work table or loops`);
      if ((load(addr + WK_STATE) & (1 << WORK_STRUCT_PENDING)) === 0)
        return violation('work-runs', -1, [pool >> 1], `work #${id} is on ${where} without PENDING`);
      if (load(addr + WK_POOL) !== pool)
        return violation(
          'work-runs',
          -1,
          [pool >> 1],
          `work #${id} is on ${where}, but says it was queued on pool ${load(addr + WK_POOL)}`,
        );
      listed.add(id);
      last = p;
    }
    if (load(head + 1) !== last)
      return violation(
        'work-runs',
        -1,
        [pool >> 1],
        `${where}'s tail word is ${load(head + 1)}, not its last entry ${last}: the next queue_work there appends where no worker looks`,
      );
  }
  for (let id = 0; id < MAX_WORKS; id++) {
    const addr = layout.work(id);
    if (load(addr + WK_ALLOC) === TaskletAlloc.Free || listed.has(id)) continue;
    if ((load(addr + WK_STATE) & (1 << WORK_STRUCT_PENDING)) !== 0)
      return violation(
        'work-runs',
        -1,
        [],
        `work #${id} is PENDING but on no worklist: it never runs, and no queue_work takes it again`,
      );
  }
  return null;
}
