/**
 * The fuzz module's work items and timers on a CPU: their words (bh-layout.ts), handles, and the
 * bookkeeping every queue, arm, cancel and delete does around its call, which tells the oracles
 * when the shadow knows an item idle (a _sync returned with nothing racing it) and so which CPU
 * the next run belongs to, and that no run may come until the next queue or arm.
 */
import {
  alloc_workqueue,
  shared_words,
  smp_processor_id,
  system_bh_highpri_wq,
  system_bh_wq,
  type TimerList,
  timer_from_id,
  type WorkqueueStruct,
  type WorkStruct,
  WQ_BH,
  work_from_id,
} from 'tasklet-rt';
import { type OracleName, type Violation, violation } from '../oracles/guarantees.ts';
import { R } from '../stress/bh-shadow.ts';
import { B, BH_FUZZ_WORDS, BH_WORDS_NAME, H_TIMER_IDS, H_WORK_IDS } from './bh-layout.ts';

export const bh = shared_words(BH_FUZZ_WORDS, BH_WORDS_NAME);

const fuzz_wq = alloc_workqueue('fuzz_bh', WQ_BH);
const queues: WorkqueueStruct[] = [system_bh_wq, system_bh_highpri_wq, fuzz_wq];
export const wqOf = (w: number): WorkqueueStruct => queues[w];
export const work = (w: number): WorkStruct => work_from_id(Atomics.load(bh, H_WORK_IDS + w));
export const timer = (x: number): TimerList => timer_from_id(Atomics.load(bh, H_TIMER_IDS + x));

/** Word `field` of the record at `r`, and adding to it (returns the new value). */
export const load = (r: number, field: number): number => Atomics.load(bh, r + field);
export const bump = (r: number, field: number, by = 1): number => Atomics.add(bh, r + field, by) + by;

/** What a queue or arm call saw as it started (record `r`). */
export interface CallStart {
  seq: number;
  /** It took the item from idle with nothing else in flight: its run is the next one. */
  fromIdle: boolean;
  cancels: number;
  runs: number;
}

/**
 * Before a queue or arm call: in progress (R.ArmIn, lowered by the caller once the call
 * returned) before it is counted, so that a _sync cancel or delete that misses the count sees
 * it in progress; any placement expectation is void, idleness ends.
 */
export function begin_call(r: number): CallStart {
  Atomics.add(bh, r + R.ArmIn, 1);
  const seq = Atomics.add(bh, r + B.Seq, 1) + 1;
  Atomics.store(bh, r + R.ExpectCpu, 0);
  const fromIdle =
    Atomics.exchange(bh, r + B.Idle, 0) === 1 && load(r, R.ArmIn) === 1 && load(r, B.CancelIn) === 0;
  return { seq, fromIdle, cancels: load(r, B.CancelSeq), runs: load(r, R.Runs) };
}

/** Whether no other queue, arm, cancel or delete started since `start`. */
export const alone = (r: number, start: CallStart): boolean =>
  load(r, B.Seq) === start.seq && load(r, B.CancelSeq) === start.cancels;

/**
 * After a call that took the item from idle, alone: its run belongs on `cpu` (whose offline
 * count was `offline` before the call, the other CPUs' together `others`), and check_placement
 * judges it at the run start. Voided if that run started before the expectation was in place,
 * or anything else started meanwhile.
 */
export function expect_run_on(
  r: number,
  start: CallStart,
  cpu: number,
  offline: number,
  others: number,
): void {
  if (!start.fromIdle || !alone(r, start)) return;
  Atomics.store(bh, r + R.ExpectOffline, offline);
  Atomics.store(bh, r + R.ExpectOthersOffline, others);
  Atomics.store(bh, r + R.ExpectCpu, cpu + 1);
  if (!alone(r, start) || load(r, R.Runs) !== start.runs)
    Atomics.compareExchange(bh, r + R.ExpectCpu, cpu + 1, 0);
}

/** What a cancel or delete saw as it started. */
export interface CancelStart {
  seq: number;
  armIn: number;
}

function begin_cancel(r: number): CancelStart {
  Atomics.add(bh, r + B.CancelIn, 1);
  Atomics.add(bh, r + B.CancelSeq, 1);
  Atomics.store(bh, r + R.ExpectCpu, 0);
  return { seq: load(r, B.Seq), armIn: load(r, R.ArmIn) };
}

/**
 * After a _sync cancel or delete returned: whether no queue or arm was in flight or started
 * during it. Then the item is neither pending nor running, and no run may start until the next
 * queue or arm (ran_after_sync), and the next one takes it from idle.
 */
function end_sync(r: number, start: CancelStart): boolean {
  const quiet = start.armIn === 0 && load(r, R.ArmIn) === 0 && load(r, B.Seq) === start.seq;
  if (quiet) {
    Atomics.store(bh, r + B.NoRunSeq, start.seq + 1);
    Atomics.store(bh, r + B.Idle, 1);
    if (load(r, B.Seq) !== start.seq) Atomics.compareExchange(bh, r + B.Idle, 1, 0);
  }
  return quiet;
}

function end_cancel(r: number): void {
  Atomics.sub(bh, r + B.CancelIn, 1);
}

/**
 * A cancel or delete `call`, bracketed. For a _sync one with nothing racing it (end_sync), the
 * callback must not be running on return (W2, T3): the violation if it is.
 */
export function cancel_call(
  r: number,
  sync: boolean,
  call: () => void,
  oracle: OracleName,
  what: string,
): Violation | null {
  const start = begin_cancel(r);
  call();
  let found: Violation | null = null;
  if (sync && end_sync(r, start)) {
    const inside = load(r, R.Inside);
    const cpu = smp_processor_id();
    if (inside !== 0)
      found = violation(
        oracle,
        -1,
        [cpu, inside - 1],
        `${what} returned on CPU${cpu} while the callback was running on CPU${inside - 1}`,
      );
  }
  end_cancel(r);
  return found;
}

/** At a run start: a guarded _sync returned and nothing queued or armed it since. */
export function ran_after_sync(r: number): boolean {
  const since = load(r, B.NoRunSeq);
  return since !== 0 && load(r, B.Seq) + 1 === since;
}
