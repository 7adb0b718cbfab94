/**
 * The drain-time checks of the timer and BH work workload (controller side): once no new work
 * is made, every timer arm not deleted must have fired and every successful queueing must have
 * run or been cancelled, exactly once; the drain waits for the last ones first.
 */
import type { Machine } from '../../machine/index.ts';
import { C_OFFLINE_COUNT } from '../../shm/layout.ts';
import { type Violation, violation } from '../oracles/guarantees.ts';
import { B_NR_TIMERS, B_NR_WORKS, R, tr, wr } from './bh-shadow.ts';

/** Timers are armed at most a few jiffies ahead; this is ample on a loaded host. */
const SETTLE_MS = 3_000;

function outstanding(bh: Int32Array): { kind: 'timer' | 'work'; i: number } | null {
  for (let i = 0; i < Atomics.load(bh, B_NR_TIMERS); i++) {
    if (Atomics.load(bh, tr(i, R.Arms)) > Atomics.load(bh, tr(i, R.Covered))) return { kind: 'timer', i };
    if (Atomics.load(bh, tr(i, R.Inside)) !== 0) return { kind: 'timer', i };
  }
  for (let i = 0; i < Atomics.load(bh, B_NR_WORKS); i++) {
    const done = Atomics.load(bh, wr(i, R.Runs)) + Atomics.load(bh, wr(i, R.Covered));
    if (Atomics.load(bh, wr(i, R.Arms)) !== done) return { kind: 'work', i };
    if (Atomics.load(bh, wr(i, R.Inside)) !== 0) return { kind: 'work', i };
  }
  return null;
}

/** Waits (machine time) until every arm and queueing is accounted for, or the settle time is up. */
export async function settleBh(machine: Machine, stopped: () => boolean): Promise<void> {
  const bh = machine.sharedWords('stress-bh');
  const deadline = machine.now() + SETTLE_MS;
  while (outstanding(bh) !== null && machine.now() < deadline && !stopped()) await machine.sleep(1);
}

/** The first timer or work item left unaccounted for after settleBh, as a violation. */
export function checkBhDrained(machine: Machine): Violation | null {
  const bh = machine.sharedWords('stress-bh');
  const left = outstanding(bh);
  if (left === null) return null;
  const { kind, i } = left;
  const at = kind === 'timer' ? (f: R) => tr(i, f) : (f: R) => wr(i, f);
  const n = (f: R): number => Atomics.load(bh, at(f));
  const lastCpu = n(R.LastCpu) - 1;
  const unplugged = lastCpu >= 0 && machine.cpuWord(lastCpu, C_OFFLINE_COUNT) !== n(R.LastOffline);
  const where =
    lastCpu >= 0
      ? ` (last armed or queued for CPU${lastCpu}${unplugged ? ', which went offline since' : ''})`
      : '';
  if (n(R.Inside) !== 0)
    return violation(
      kind === 'timer' ? 'timer-fires' : 'work-runs',
      -1,
      [n(R.Inside) - 1],
      `${kind} stress-${kind}${i}: its callback never returned on CPU${n(R.Inside) - 1}`,
    );
  if (kind === 'timer')
    return violation(
      unplugged ? 'timer-takeover' : 'timer-fires',
      -1,
      lastCpu >= 0 ? [lastCpu] : [],
      `timer stress-timer${i}: ${n(R.Arms) - n(R.Covered)} arm(s) neither fired nor were deleted after the drain${where}`,
    );
  return violation(
    'work-runs',
    -1,
    lastCpu >= 0 ? [lastCpu] : [],
    `work stress-work${i}: queued successfully ${n(R.Arms)} time(s) but ran ${n(R.Runs)} and was cancelled ${n(R.Covered)} time(s) after the drain${where}`,
  );
}

/** CPUs that a timer arm or a BH queueing not yet accounted for went to (hotplug prefers them). */
export function bhBusyCpus(machine: Machine): number[] {
  const bh = machine.sharedWords('stress-bh');
  const cpus = new Set<number>();
  for (let i = 0; i < Atomics.load(bh, B_NR_TIMERS); i++)
    if (Atomics.load(bh, tr(i, R.Arms)) > Atomics.load(bh, tr(i, R.Covered)))
      cpus.add(Atomics.load(bh, tr(i, R.LastCpu)) - 1);
  for (let i = 0; i < Atomics.load(bh, B_NR_WORKS); i++)
    if (
      Atomics.load(bh, wr(i, R.Arms)) >
      Atomics.load(bh, wr(i, R.Runs)) + Atomics.load(bh, wr(i, R.Covered))
    )
      cpus.add(Atomics.load(bh, wr(i, R.LastCpu)) - 1);
  cpus.delete(-1);
  return [...cpus];
}
