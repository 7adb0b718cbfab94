/**
 * The fuzz module's timer and BH work words ('fuzz-bh'): a header (runtime ids, the interrupt's
 * mailboxes, the latest expiry armed), then one record per work item and per timer. A record
 * starts with the fields of harness/stress/bh-shadow.ts (R.*), so that the shared checks of
 * harness/oracles/bh-checks.ts read it, and goes on with the fuzz's own fields (B.*). Everything
 * here is written at the API boundary and in the callbacks, never read from the state under test.
 *
 * A program has a fixed set: work items w0 (system_bh_wq), w1 (system_bh_highpri_wq), w2 (the
 * module's alloc_workqueue(WQ_BH) queue); shared timers x0, x1 (any CPU, interrupts too) and
 * private timers x2, x3 (only CPU0, CPU1 touch them: add_timer_on needs a timer known not pending).
 */
import { RECORD_WORDS } from '../stress/bh-shadow.ts';
import { FUZZ_MAX_CPUS } from './layout.ts';

export const BH_WORDS_NAME = 'fuzz-bh';
export const NR_WORKS = 3;
export const NR_SHARED_TIMERS = 2;
export const NR_TIMERS = 4;
/**
 * Busy delay inside each work function and timer callback (µs): a slow one can be caught running.
 * w2, x0 and x2 are slow enough that, in controlled mode, the fairness slices the scheduler gives a
 * waiting CPU (every 2000 decisions of a microsecond) let the other CPU act while they run.
 */
export const WORK_BUSY_US = [60, 0, 5000] as const;
export const TIMER_BUSY_US = [5000, 0, 5000, 200] as const;
/** Longest expiry ahead (jiffies) of mod_timer and add_timer_on. */
export const MAX_TICKS = 6;
export const MAX_ON_TICKS = 30;
/** Self re-arms a mod_timer may give a shared timer's callback. */
export const MAX_REARM = 2;

/** The owner CPU of private timer x, -1 for a shared one. */
export const timerOwner = (x: number): number => (x < NR_SHARED_TIMERS ? -1 : x - NR_SHARED_TIMERS);
export const workName = (w: number): string =>
  `w${w} (${['events_bh', 'events_bh_highpri', 'fuzz_bh'][w % NR_WORKS]})`;
export const timerName = (x: number): string => `timer x${x}`;

/** What the fuzz interrupt does for the BH ops (irq_bh): a mailbox per target CPU, call and item. */
export const IRQ_BH_CALLS = ['queue_work', 'mod_timer', 'del_timer'] as const;
export type IrqBhCall = (typeof IRQ_BH_CALLS)[number];

// Header.
export const H_WORK_IDS = 0;
export const H_TIMER_IDS = H_WORK_IDS + NR_WORKS;
/** jiffies (low 32 bits) of the latest expiry armed in this program, for the drain. */
export const H_LAST_EXPIRES = H_TIMER_IDS + NR_TIMERS;
export const H_ARMED = H_LAST_EXPIRES + 1; // 1 once any arm happened (H_LAST_EXPIRES is valid)
export const H_MAILBOX = H_ARMED + 1;
const MAILBOX_WORDS = FUZZ_MAX_CPUS * IRQ_BH_CALLS.length * NR_WORKS;
export const H_RECORDS = H_MAILBOX + MAILBOX_WORDS;

/** The fuzz's own fields of a record, after R.* (plain numbers: an enum could not start at an imported constant). */
const F = RECORD_WORDS;
export const B = {
  /** Calls started that may make it pending (queue_work*, mod_timer*, add_timer_on). */
  Seq: F,
  /** 1 when the shadow knows it neither pending nor running (a guarded _sync returned, or fresh). */
  Idle: F + 1,
  /** Cancels, disables and deletes in progress, and started. */
  CancelIn: F + 2,
  CancelSeq: F + 3,
  /** Seq + 1 at a guarded cancel_work_sync / disable_work_sync / del_timer_sync return: a run with Seq unchanged since is W2/T3. */
  NoRunSeq: F + 4,
  /** Work: disables held (raised after disable_work* returns, lowered before enable_work), and enables started. */
  Held: F + 5,
  EnableSeq: F + 6,
  /** Timer: Seq of the arm that took it from idle (the next arm may judge a move), 0 none. */
  FromIdleSeq: F + 7,
  /** Timer: the Seq whose NotBefore is set (R.NotBefore holds only while no arm started since). */
  NotBeforeSeq: F + 8,
  /**
   * Timer: what the last call that ran alone left (bh-pending.ts): its Seq and CancelSeq after
   * it, pending (with its expiry) or idle. A seqlock (KnownVer, odd while written; KnownLock
   * keeps writers one at a time) keeps a reader from mixing two records.
   */
  KnownVer: F + 9,
  KnownLock: F + 10,
  KnownSeq: F + 11,
  KnownCancels: F + 12,
  KnownState: F + 13,
  KnownExpires: F + 14,
  /** Work: disable_work(_sync) and enable_work calls in progress, until Held says what they did. */
  DisableIn: F + 15,
} as const;
export const BH_RECORD = RECORD_WORDS + 16;

export const wrec = (w: number): number => H_RECORDS + w * BH_RECORD;
export const xrec = (x: number): number => H_RECORDS + (NR_WORKS + x) * BH_RECORD;
export const BH_FUZZ_WORDS = H_RECORDS + (NR_WORKS + NR_TIMERS) * BH_RECORD;

export const bhMailbox = (cpu: number, call: IrqBhCall, n: number): number =>
  H_MAILBOX + (cpu * IRQ_BH_CALLS.length + IRQ_BH_CALLS.indexOf(call)) * NR_WORKS + n;
export const MAILBOX_END = H_RECORDS;
