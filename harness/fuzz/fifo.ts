/**
 * FIFO within a queue and requeue to the tail (G7), judged on a model of each CPU's two tasklet
 * queues that the harness keeps itself. The model holds the private tasklets its owner queued
 * while idle; each gets a place, the next number of that CPU's queue of that vector, and places
 * order the entries, because the model follows every way an entry moves:
 * - a schedule in an irqs-off section (on_fifo_queued) or a callback's self-reschedule
 *   (on_fifo_resched) appends it: a new place;
 * - a pass splices the queue whole (on_fifo_pass_entry, at softirq_entry): the places handed out
 *   so far are the pass's list;
 * - the pass walks its list in order, running each enabled entry and putting each disabled one
 *   back at the tail: a new place, taken once the walk is past it (at the pass's next run start,
 *   or at its end).
 * So an entry placed ahead of a running one, enabled and not run yet, was walked before it in
 * this very pass and must have run (on_fifo_run). And with an entry that re-queues itself ahead
 * of disabled ones, a requeue to the head shows in every pass, whatever their number.
 *
 * Judged only on the owner CPU in the epoch of the places: a hot-unplug moves a queue whole
 * behind the heir's entries, and the owner thread (the only one that disables, enables and
 * queues these) cannot act while a pass runs on its CPU, so "disabled" holds for a whole pass.
 * CPU side only.
 */
import { HI_SOFTIRQ, TASKLET_SOFTIRQ } from 'tasklet-rt';
import { F_COVERED, F_INSIDE, F_OWNER, F_SCHED_SEQ, tw } from '../oracles/shadow.ts';
import {
  W_FIFO,
  W_FIFO_LIST_END,
  X_FIFO_EPOCH,
  X_FIFO_QUEUE,
  X_FIFO_SEQ,
  X_HELD,
  X_KILL_COVERED,
  X_LAST_RUN_CPU,
  X_ORPHAN_KILLS,
  xw,
} from './layout.ts';
import type { FuzzViolation } from './oracles.ts';

const queueOf = (cpu: number, hi: boolean): number => cpu * 2 + (hi ? 1 : 0);

/**
 * Before a schedule in a section: whether the shadow says the tasklet is idle, so that this
 * schedule queues it: every schedule so far covered by a run start or a kill, no callback in
 * progress, and its last run (if any) on this CPU, which is running the section and so has
 * finished that run and unlocked it. Never once orphaned: its entry without SCHED may still sit
 * on a queue (requeued while disabled), and the next schedule would queue it a second time.
 */
export function fifo_idle(sh: Int32Array, words: Int32Array, i: number, cpu: number): boolean {
  if (Atomics.load(words, xw(i, X_ORPHAN_KILLS)) !== 0) return false;
  const seq = Atomics.load(sh, tw(i, F_SCHED_SEQ));
  const covered = Math.max(Atomics.load(sh, tw(i, F_COVERED)), Atomics.load(words, xw(i, X_KILL_COVERED)));
  const lastRun = Atomics.load(words, xw(i, X_LAST_RUN_CPU));
  return seq === covered && Atomics.load(sh, tw(i, F_INSIDE)) === 0 && (lastRun === 0 || lastRun === cpu + 1);
}

/** After a schedule that queued `i` at the tail of `cpu`'s queue: its place there. */
export function on_fifo_queued(words: Int32Array, i: number, cpu: number, hi: boolean, epoch: number): void {
  const queue = queueOf(cpu, hi);
  const place = Atomics.add(words, W_FIFO + queue, 1) + 1;
  Atomics.store(words, xw(i, X_FIFO_QUEUE), queue + 1);
  Atomics.store(words, xw(i, X_FIFO_EPOCH), epoch);
  Atomics.store(words, xw(i, X_FIFO_SEQ), place);
}

/**
 * The tasklet whose run start on this CPU the model judged (it had a place there), -1 for none.
 * Per CPU thread; a CPU runs one callback at a time.
 */
let judgedRun = -1;

/**
 * After `i`'s callback rescheduled it, on `cpu`. The pass cleared SCHED before the callback and
 * nobody else can set it meanwhile (private: only the owner queues it, and the owner's thread
 * waits while its CPU runs the pass), so the schedule appended it. Only after a run the model
 * judged: a run it did not follow (no place) has not put the disabled entries walked before it
 * back at the tail yet, and this place would land ahead of theirs.
 */
export function on_fifo_resched(
  sh: Int32Array,
  words: Int32Array,
  i: number,
  cpu: number,
  hi: boolean,
  epoch: number,
): void {
  if (judgedRun !== i || Atomics.load(sh, tw(i, F_OWNER)) !== cpu + 1) return;
  if (Atomics.load(words, xw(i, X_ORPHAN_KILLS)) !== 0) return;
  on_fifo_queued(words, i, cpu, hi, epoch);
}

const vectorQueue = (cpu: number, vec: number): number =>
  vec === HI_SOFTIRQ ? queueOf(cpu, true) : vec === TASKLET_SOFTIRQ ? queueOf(cpu, false) : -1;

/** At softirq_entry on `cpu`: a tasklet pass takes its queue whole, every place handed out so far. */
export function on_fifo_pass_entry(words: Int32Array, cpu: number, vec: number): void {
  const queue = vectorQueue(cpu, vec);
  if (queue >= 0) Atomics.store(words, W_FIFO_LIST_END + queue, Atomics.load(words, W_FIFO + queue));
}

/** At softirq_exit on `cpu`: the walk went through the whole list. */
export function on_fifo_pass_exit(
  words: Int32Array,
  n: number,
  cpu: number,
  vec: number,
  epoch: number,
): void {
  const queue = vectorQueue(cpu, vec);
  if (queue < 0) return;
  requeueWalked(words, n, queue, epoch, Number.POSITIVE_INFINITY);
  Atomics.store(words, W_FIFO_LIST_END + queue, 0);
}

/**
 * The disabled entries of the pass's list that the walk is past (placed before `before`) went
 * back to the tail in the order it met them: new places, in that order.
 */
function requeueWalked(words: Int32Array, n: number, queue: number, epoch: number, before: number): void {
  const end = Atomics.load(words, W_FIFO_LIST_END + queue);
  const walked: { j: number; place: number }[] = [];
  for (let j = 0; j < n; j++) {
    const place = Atomics.load(words, xw(j, X_FIFO_SEQ));
    if (place === 0 || place > end || place >= before) continue;
    if (Atomics.load(words, xw(j, X_FIFO_QUEUE)) !== queue + 1) continue;
    if (Atomics.load(words, xw(j, X_FIFO_EPOCH)) !== epoch || Atomics.load(words, xw(j, X_HELD)) === 0)
      continue;
    walked.push({ j, place });
  }
  walked.sort((a, b) => a.place - b.place);
  for (const { j } of walked)
    Atomics.store(words, xw(j, X_FIFO_SEQ), Atomics.add(words, W_FIFO + queue, 1) + 1);
}

/**
 * At a run start of `i`, on `cpu` whose offline count is `epoch`: the disabled entries ahead of
 * it were put back to the tail, and no enabled one may be left ahead of it.
 */
export function on_fifo_run(
  words: Int32Array,
  n: number,
  i: number,
  cpu: number,
  epoch: number,
): FuzzViolation | null {
  Atomics.store(words, xw(i, X_LAST_RUN_CPU), cpu + 1);
  judgedRun = -1;
  const place = Atomics.exchange(words, xw(i, X_FIFO_SEQ), 0);
  if (place === 0) return null;
  const queue = Atomics.load(words, xw(i, X_FIFO_QUEUE)) - 1;
  const hi = queue % 2 === 1;
  if (queue >> 1 !== cpu || Atomics.load(words, xw(i, X_FIFO_EPOCH)) !== epoch) return null;
  judgedRun = i;
  requeueWalked(words, n, queue, epoch, place);
  for (let j = 0; j < n; j++) {
    const earlier = j !== i ? Atomics.load(words, xw(j, X_FIFO_SEQ)) : 0;
    if (earlier === 0 || earlier > place) continue;
    if (Atomics.load(words, xw(j, X_FIFO_QUEUE)) !== queue + 1) continue;
    if (Atomics.load(words, xw(j, X_FIFO_EPOCH)) !== epoch || Atomics.load(words, xw(j, X_HELD)) !== 0)
      continue;
    return {
      oracle: 'fifo',
      guarantee: 7,
      tasklet: i,
      cpus: [cpu],
      message: `t${i} ran on CPU${cpu} before t${j}, which was queued ahead of it on the same ${hi ? 'HI' : 'TASKLET'} queue and is enabled: not FIFO (or a requeued entry did not go to the tail)`,
    };
  }
  return null;
}
