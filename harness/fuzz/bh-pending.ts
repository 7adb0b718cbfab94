/**
 * T6 in fuzz: mod_timer, mod_timer_pending, del_timer and del_timer_sync return whether the
 * timer was pending. A call that ran alone (no other arm, delete or self re-arm started on the
 * timer meanwhile) records what it left: pending with its expiry, or idle. The next call, alone
 * in turn and the first to start after it, must return what the record says: idle in any case;
 * pending while that expiry is still ahead of jiffies read after the call (no tick can have fired
 * it: a timer runs at the first tick at or after its expiry).
 */
import { jiffies } from 'tasklet-rt';
import { type Violation, violation } from '../oracles/guarantees.ts';
import { R } from '../stress/bh-shadow.ts';
import { bh, load } from './bh-items.ts';
import { B } from './bh-layout.ts';

export enum Pending {
  Unknown = 0,
  Yes = 1,
  No = 2,
}

export interface Known {
  state: Pending;
  expires: number;
}

/** The record's call counters: arms and cancels started (Seq, CancelSeq), and in progress. */
export interface Counters {
  seq: number;
  cancels: number;
  armsIn: number;
  cancelsIn: number;
}

const UNKNOWN: Known = { state: Pending.Unknown, expires: 0 };

export const counters = (r: number): Counters => ({
  seq: load(r, B.Seq),
  cancels: load(r, B.CancelSeq),
  armsIn: load(r, R.ArmIn),
  cancelsIn: load(r, B.CancelIn),
});

/**
 * Whether one call ran alone, from the counters before it began and after it returned: it is the
 * only call started since `before` (`arm` says which kind it was), and none was in progress as it
 * began or is as it ends (one begun earlier may land after it). Then the timer is as it left it.
 */
export function ranAlone(before: Counters, after: Counters, arm: boolean): boolean {
  return (
    before.armsIn === 0 &&
    before.cancelsIn === 0 &&
    after.armsIn === 0 &&
    after.cancelsIn === 0 &&
    after.seq === before.seq + (arm ? 1 : 0) &&
    after.cancels === before.cancels + (arm ? 0 : 1)
  );
}

/** What the record says of the timer at counters `at` (read before a call begins), if it is about then. */
export function known_at(r: number, at: Pick<Counters, 'seq' | 'cancels'>): Known {
  const ver = load(r, B.KnownVer);
  if (ver % 2 !== 0) return UNKNOWN;
  const seq = load(r, B.KnownSeq);
  const cancels = load(r, B.KnownCancels);
  const state = load(r, B.KnownState) as Pending;
  const expires = load(r, B.KnownExpires);
  if (load(r, B.KnownVer) !== ver || seq !== at.seq || cancels !== at.cancels) return UNKNOWN;
  return { state, expires };
}

/** After a call that ran alone: the timer is `state` at counters `after` (taken right after it). */
export function record_known(
  r: number,
  after: Pick<Counters, 'seq' | 'cancels'>,
  state: Pending,
  expires = 0,
): void {
  if (Atomics.compareExchange(bh, r + B.KnownLock, 0, 1) !== 0) return; // another writer: let it
  Atomics.add(bh, r + B.KnownVer, 1);
  Atomics.store(bh, r + B.KnownSeq, after.seq);
  Atomics.store(bh, r + B.KnownCancels, after.cancels);
  Atomics.store(bh, r + B.KnownState, state);
  Atomics.store(bh, r + B.KnownExpires, expires | 0);
  Atomics.add(bh, r + B.KnownVer, 1);
  Atomics.store(bh, r + B.KnownLock, 0);
}

/** Fresh from setup (the records zeroed): idle, before any call. */
export function record_idle_at_setup(r: number): void {
  Atomics.store(bh, r + B.KnownState, Pending.No);
}

/**
 * What a call that ran alone, with `before` known as it began, must have returned; the violation
 * if it returned otherwise. Reads jiffies only when the record says pending.
 */
export function check_return(known: Known, returned: boolean, cpu: number, what: string): Violation | null {
  let expected: boolean;
  if (known.state === Pending.No) expected = false;
  else if (known.state === Pending.Yes && ((jiffies() - known.expires) | 0) < 0) expected = true;
  else return null;
  if (returned === expected) return null;
  const was = expected
    ? `pending (armed for jiffies ${known.expires >>> 0}, still ahead)`
    : 'idle (the call before it left it so)';
  return violation(
    'timer-pending',
    -1,
    [cpu],
    `${what} returned ${returned} on CPU${cpu}, but the timer was ${was}`,
  );
}
