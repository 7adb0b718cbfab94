/**
 * Timer and work ops on a CPU: the program thread's (bhOp), the fuzz interrupt's (its mailboxes
 * per call and item, irq_bh), and the per-program setup (fresh state for the fixed set).
 */
import {
  cancel_work,
  cpu_relax,
  del_timer,
  INIT_WORK,
  raise_irq,
  type TimerList,
  timer_alloc,
  timer_setup,
  try_to_del_timer_sync,
  type WorkStruct,
  work_alloc,
  work_running,
} from 'tasklet-rt';
import { machineMs } from '../../shm/clock.ts';
import { bh, timer, work } from './bh-items.ts';
import {
  B,
  bhMailbox,
  H_TIMER_IDS,
  H_WORK_IDS,
  IRQ_BH_CALLS,
  NR_TIMERS,
  NR_WORKS,
  wrec,
  xrec,
} from './bh-layout.ts';
import { record_idle_at_setup } from './bh-pending.ts';
import { armTimer, delTimer, fuzz_timer_fn } from './bh-timer-ops.ts';
import { fuzz_work_fn, queueWork, workOp } from './bh-work-ops.ts';
import { armIrq } from './injection.ts';
import { FUZZ_IRQ } from './layout.ts';
import type { BhOp } from './program.ts';

/** Ticks ahead of an interrupt's mod_timer: due at the next tick. */
const IRQ_TICKS = 0;

/** A program thread's timer or work op (irq_bh asks the target CPU's interrupt). */
export function bhOp(op: BhOp, cpu: number): void {
  switch (op.op) {
    case 'irq_bh':
      Atomics.add(bh, bhMailbox(op.cpu, op.call, op.n), 1);
      if (op.cpu === cpu) armIrq(op.at);
      else raise_irq(op.cpu, FUZZ_IRQ);
      return;
    case 'queue_work_on':
      queueWork(op.w, op.cpu);
      return;
    case 'mod_timer':
      armTimer(op.x, 'mod_timer', op.ticks, -1, op.rearm);
      return;
    case 'mod_timer_pending':
      armTimer(op.x, 'mod_timer_pending', op.ticks);
      return;
    case 'add_timer_on':
      // A private timer: only this thread arms it, so after del_timer_sync it is not pending.
      delTimer(op.x, true);
      armTimer(op.x, 'add_timer_on', op.ticks, op.cpu);
      return;
    case 'del_timer':
    case 'del_timer_sync':
      delTimer(op.x, op.op === 'del_timer_sync');
      return;
    default:
      workOp(op.op, op.w, cpu);
  }
}

/** In the fuzz interrupt on `cpu`: the timer and work calls asked of it, taken off only once done. */
export function serveBhMailbox(cpu: number): void {
  for (const call of IRQ_BH_CALLS) {
    for (let n = 0; n < NR_WORKS; n++) {
      const box = bhMailbox(cpu, call, n);
      while (Atomics.load(bh, box) > 0) {
        if (call === 'queue_work') queueWork(n, -1);
        else if (call === 'mod_timer') armTimer(n, 'mod_timer', IRQ_TICKS);
        else delTimer(n, false);
        Atomics.sub(bh, box, 1);
      }
    }
  }
}

let allocated = false;

/** The drain ends once the callbacks have returned; the kernel may still be finishing the run. */
const SETTLE_MS = 20;

/** Until `busy` is false, for a bounded machine time; whether it is. */
function settled(busy: () => boolean): boolean {
  const deadline = machineMs() + SETTLE_MS;
  while (busy() && machineMs() < deadline) cpu_relax();
  return !busy();
}

function reinitWork(w: WorkStruct): void {
  cancel_work(w);
  if (!settled(() => work_running(w))) throw new Error(`${w.name} is still running from the last program`);
  INIT_WORK(w, fuzz_work_fn);
}

function reinitTimer(t: TimerList): void {
  del_timer(t);
  if (!settled(() => try_to_del_timer_sync(t) < 0))
    throw new Error(`${t.name} is still running from the last program`);
  timer_setup(t, fuzz_timer_fn);
}

/** In fuzz_setup (CPU0, the machine idle): the fixed work items and timers, fresh and idle. */
export function setupBh(): void {
  if (!allocated) {
    for (let w = 0; w < NR_WORKS; w++) Atomics.store(bh, H_WORK_IDS + w, work_alloc(`fuzz-w${w}`, w).id);
    for (let x = 0; x < NR_TIMERS; x++) Atomics.store(bh, H_TIMER_IDS + x, timer_alloc(`fuzz-x${x}`, x).id);
    allocated = true;
  }
  const ids = bh.slice(H_WORK_IDS, H_TIMER_IDS + NR_TIMERS);
  for (let w = 0; w < NR_WORKS; w++) reinitWork(work(w));
  for (let x = 0; x < NR_TIMERS; x++) reinitTimer(timer(x));
  bh.fill(0);
  bh.set(ids, H_WORK_IDS);
  for (let w = 0; w < NR_WORKS; w++) Atomics.store(bh, wrec(w) + B.Idle, 1);
  for (let x = 0; x < NR_TIMERS; x++) {
    Atomics.store(bh, xrec(x) + B.Idle, 1);
    record_idle_at_setup(xrec(x));
  }
}

export { fuzz_timer_fn, fuzz_work_fn };
