/**
 * The fuzz's BH work ops and work function, with their oracles (W1-W5 of docs/semantics.md §10),
 * judged from the records of bh-items.ts: queueings that returned true (R.Arms), runs started
 * and ended, cancels that returned true (R.Covered), and the disables each thread holds.
 */
import {
  cancel_work_sync,
  cpu_online,
  disable_work,
  disable_work_sync,
  enable_work,
  flush_work,
  from_work,
  in_hardirq,
  in_serving_softirq,
  queue_work,
  queue_work_on,
  smp_processor_id,
  udelay,
  type WorkStruct,
} from 'tasklet-rt';
import { check_placement, enter_callback, othersOffline } from '../oracles/bh-checks.ts';
import { offlineCount } from '../oracles/cpu-context.ts';
import { violation } from '../oracles/guarantees.ts';
import { R } from '../stress/bh-shadow.ts';
import {
  alone,
  begin_call,
  bh,
  bump,
  cancel_call,
  expect_run_on,
  load,
  ran_after_sync,
  work,
  wqOf,
} from './bh-items.ts';
import { B, WORK_BUSY_US, workName, wrec } from './bh-layout.ts';
import type { WorkOpName } from './program.ts';
import { fail, logInterval, tick } from './state.ts';

/** Per work item, whether each disable this CPU's thread holds was a _sync one. */
const held = new Map<number, boolean[]>();
export const resetHeldWorks = (): void => held.clear();

/**
 * Nothing but this call in flight on the item, nobody holds it disabled, and every queueing that
 * returned true has started its run or been cancelled: it is not pending (a work item is never
 * PENDING while it runs), so this queueing must succeed.
 */
function notPending(r: number): boolean {
  return (
    load(r, R.ArmIn) === 1 &&
    load(r, B.CancelIn) === 0 &&
    load(r, B.DisableIn) === 0 &&
    load(r, B.Held) === 0 &&
    load(r, R.Arms) === load(r, R.Runs) + load(r, R.Covered)
  );
}

/**
 * queue_work (target -1) or queue_work_on. W4: a disabled item must refuse. W5: one that was
 * not pending, with nothing racing the call, must accept (a refusal loses the queueing).
 */
export function queueWork(w: number, target: number): boolean {
  const r = wrec(w);
  const cpu = smp_processor_id();
  // The offline count before the online check: an unplug after it shows in the count.
  const want = target >= 0 ? target : cpu;
  const offline = offlineCount(want);
  const others = othersOffline(want);
  const base = target >= 0 && cpu_online(target) ? target : cpu;
  const start = begin_call(r);
  const disabled = load(r, B.Held) > 0;
  const enables = load(r, B.EnableSeq);
  const idle = notPending(r);
  Atomics.store(bh, r + R.LastCpu, base + 1);
  Atomics.store(bh, r + R.LastOffline, offline);
  const ok = target >= 0 ? queue_work_on(target, wqOf(w), work(w)) : queue_work(wqOf(w), work(w));
  if (!ok && idle && notPending(r) && alone(r, start) && load(r, B.EnableSeq) === enables)
    fail(
      violation(
        'work-runs',
        -1,
        [cpu],
        `${workName(w)}: ${target >= 0 ? 'queue_work_on' : 'queue_work'} returned false on CPU${cpu} though it was not pending (every queueing had run or been cancelled, nothing else in flight): the queueing is lost`,
      ),
    );
  if (ok) bump(r, R.Arms);
  bump(r, R.ArmIn, -1);
  if (ok && disabled && load(r, B.Held) > 0 && load(r, B.EnableSeq) === enables)
    fail(
      violation(
        'work-disabled',
        -1,
        [cpu],
        `${workName(w)}: ${target >= 0 ? 'queue_work_on' : 'queue_work'} returned true on CPU${cpu} while it was disabled (disable_work had returned, no enable_work since)`,
      ),
    );
  if (ok && base === want) expect_run_on(r, start, base, offline, others);
  return ok;
}

type CancelKind = 'cancel_work_sync' | 'disable_work' | 'disable_work_sync';
const cancels: Record<CancelKind, (w: WorkStruct) => boolean> = {
  cancel_work_sync,
  disable_work,
  disable_work_sync,
};

/** W2: a _sync form returns with the item neither running nor (until queued again) pending. */
function cancelWork(w: number, kind: CancelKind): void {
  const r = wrec(w);
  const sync = kind !== 'disable_work';
  const call = (): void => {
    if (cancels[kind](work(w))) bump(r, R.Covered);
  };
  const disabling = kind !== 'cancel_work_sync';
  if (disabling) bump(r, B.DisableIn);
  fail(cancel_call(r, sync, call, 'work-cancel-sync', `${workName(w)}: ${kind}`));
  if (disabling) {
    bump(r, B.Held);
    if (sync) bump(r, R.Disabled);
    held.set(w, [...(held.get(w) ?? []), sync]);
    bump(r, B.DisableIn, -1);
  }
}

function enableWork(w: number): void {
  const r = wrec(w);
  const sync = held.get(w)?.pop() === true;
  bump(r, B.DisableIn);
  bump(r, B.EnableSeq);
  if (sync) bump(r, R.Disabled, -1);
  bump(r, B.Held, -1);
  enable_work(work(w));
  bump(r, B.DisableIn, -1);
}

/** W3: flush_work returns only once the run a queueing asked for (not yet started) has ended. */
function flushWork(w: number, cpu: number): void {
  const r = wrec(w);
  const cancelsBefore = load(r, B.CancelSeq);
  const quiet = load(r, B.CancelIn) === 0;
  const arms = load(r, R.Arms);
  const runs = load(r, R.Runs);
  const owed = arms > runs + load(r, R.Covered);
  flush_work(work(w));
  const judged = owed && quiet && load(r, B.CancelIn) === 0 && load(r, B.CancelSeq) === cancelsBefore;
  if (judged && load(r, R.Ends) <= runs)
    fail(
      violation(
        'work-flush',
        -1,
        [cpu],
        `${workName(w)}: flush_work returned on CPU${cpu} before the run a queueing asked for had finished (${runs} run(s) ended or running when it started, ${load(r, R.Ends)} ended now)`,
      ),
    );
}

export function workOp(name: Exclude<WorkOpName, 'queue_work_on'>, w: number, cpu: number): void {
  switch (name) {
    case 'queue_work':
      queueWork(w, -1);
      return;
    case 'flush_work':
      flushWork(w, cpu);
      return;
    case 'enable_work':
      enableWork(w);
      return;
    default:
      cancelWork(w, name);
  }
}

/** The work function of every fuzz work item: W1, W2, W4, W5 at its start; a busy delay. */
export function fuzz_work_fn(work: WorkStruct): void {
  const w = from_work(work);
  const r = wrec(w);
  const cpu = smp_processor_id();
  const start = tick();
  const name = workName(w);
  fail(enter_callback(bh, r, cpu, 'work-reentrant', `${name}: started`));
  // A queueing that let this run start has returned (counted) or is still in progress.
  const inProgress = load(r, R.ArmIn);
  const queued = load(r, R.Arms);
  const runs = bump(r, R.Runs);
  if (runs > queued + inProgress)
    fail(
      violation(
        'work-runs',
        -1,
        [cpu],
        `${name}: run #${runs} but it was queued successfully only ${queued} time(s) (at most ${inProgress} more in progress)`,
      ),
    );
  if (!in_serving_softirq() || in_hardirq())
    fail(violation('work-runs', -1, [cpu], `${name}: ran outside BH (softirq) context`));
  if (ran_after_sync(r))
    fail(
      violation(
        'work-cancel-sync',
        -1,
        [cpu],
        `${name}: ran on CPU${cpu} after cancel_work_sync or disable_work_sync returned, with no queueing since`,
      ),
    );
  if (load(r, R.Disabled) > 0)
    fail(violation('work-disabled', -1, [cpu], `${name}: ran on CPU${cpu} while disable_work_sync held it`));
  fail(check_placement(bh, r, cpu, 'work-runs', name, 'queued'));
  if (WORK_BUSY_US[w] > 0) udelay(WORK_BUSY_US[w]);
  bump(r, R.Ends);
  Atomics.compareExchange(bh, r + R.Inside, cpu + 1, 0);
  logInterval(cpu, 'work_run', start);
}
