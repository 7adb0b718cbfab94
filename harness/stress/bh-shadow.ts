/**
 * The timer and BH work workload's shared words ('stress-bh'): a header, then one record per
 * stress timer and per stress work item. Everything the T and W oracles judge is in here,
 * written at the API boundary and in the callbacks, never read from the timer or work state
 * under test.
 */
export const MAX_BH_TIMERS = 48;
export const MAX_BH_WORKS = 64;

// Header.
export const B_NR_TIMERS = 0;
export const B_NR_WORKS = 1;
export const B_FIRST_TIMER = 2;
export const B_FIRST_WORK = 3;
/** Tasklet ids of the per-CPU probes (normal, HI) that must run after the BH work queued before them. */
export const B_FIRST_PROBE = 4;
export const B_HEADER = 16;
/** Per CPU: the last position of its order episode that ran (as the tasklets' FIFO progress). */
export const B_ORDER_PROGRESS = B_HEADER;
/**
 * Per CPU and vector (slot cpu * 2 + hi): the probe episode open (its number, 0: none), the BH
 * work items of it that have not run, the CPU's offline count and jiffies when it was opened,
 * and the softirq invocation in which the pool last ran work and how many items it ran then.
 */
export const B_PROBE_OPEN = B_ORDER_PROGRESS + 64;
export const B_PROBE_LEFT = B_PROBE_OPEN + 128;
export const B_PROBE_OFFLINE = B_PROBE_LEFT + 128;
export const B_PROBE_JIFFIES = B_PROBE_OFFLINE + 128;
export const B_POOL_INVOCATION = B_PROBE_JIFFIES + 128;
export const B_POOL_COUNT = B_POOL_INVOCATION + 128;
/** What the probe saw when it ran: the items not yet started (NOT_JUDGED: bounds or unplug; -1: not run). */
export const B_PROBE_SEEN = B_POOL_COUNT + 128;
export const NOT_JUDGED = 1000;
export const B_RECORDS = B_PROBE_SEEN + 128;

/** One record's words. */
export enum R {
  /** CPU + 1 while the callback runs (T1/W1 are judged by this, not by running_timer). */
  Inside = 0,
  /** CPU + 1 of the process-context op holding the record exclusively. */
  Ctrl,
  /** 1 while an exclusive op holds it: racing ops keep off. */
  Excl,
  /** Racing ops inside their exclusivity check (the exclusive op waits for 0). */
  InFlight,
  /** Timer: arms (mod_timer, add_timer*) counted as they start. Work: queueings that returned true. */
  Arms,
  /** Timer: arms accounted for by a fire or a delete. Work: cancels and disables that returned true. */
  Covered,
  /** Callback starts. */
  Runs,
  /** Callback ends. */
  Ends,
  /** Timer: the earliest expiry (low 32 bits) armed since the last judged fire, 0 for none. */
  MinExpires,
  /** Timer: arming calls in progress (a fire is judged only when none is). Work: queue calls in progress. */
  ArmIn,
  /** Work: 1 while its exclusive holder has it disabled (queueing must fail, nothing may run). */
  Disabled,
  /**
   * CPU + 1 an exclusive op expects the callback on, then the offline count of that CPU and the
   * offline count of all other CPUs together (expect_placement).
   */
  ExpectCpu,
  ExpectOffline,
  ExpectOthersOffline,
  /** Self re-arms/requeues left. */
  Budget,
  /** Order episode: (owner CPU + 1) << 16 | position. */
  Order,
  /** µs the callback busy-waits (an exclusive op wants it caught running); 0: not slow. */
  Slow,
  /** CPU + 1 of the last arm or queue (the base or pool it went to), then that CPU's offline count. */
  LastCpu,
  LastOffline,
  /** Work: the probe episode (cpu * 2 + hi) + 1 it belongs to, and that episode's number. */
  Probe,
  ProbeEpisode,
  /** Timer: the expiry (low 32 bits) mod_timer moved a pending timer to; it must not run before. */
  NotBefore,
  /** CPU + 1 of the last run. */
  RunCpu,
  /** Timer: 1 while an exclusive add_timer_on is held until it fires (its callback releases it). */
  HeldUntilFire,
}
export const RECORD_WORDS = 24;

export const BH_WORDS = B_RECORDS + (MAX_BH_TIMERS + MAX_BH_WORKS) * RECORD_WORDS;

/** Word `field` of timer record i. */
export const tr = (i: number, field: R): number => B_RECORDS + i * RECORD_WORDS + field;
/** Word `field` of work record i. */
export const wr = (i: number, field: R): number => B_RECORDS + (MAX_BH_TIMERS + i) * RECORD_WORDS + field;
