/**
 * The oracles' own record of each tasklet ("shadow state"), in shared words that the harness
 * keeps at the API boundary: around every schedule, disable, enable, kill and callback run.
 * Nothing here reads the runtime's SCHED/RUN bits to decide whether those bits did their job.
 *
 * The words are a header the harness lays out for itself (stress: phase, epoch, drain acks,
 * op counters), then one record of TASKLET_WORDS per tasklet, indexed by the harness's own
 * tasklet number (stress index, fuzz program tasklet).
 */

/** Words before the first record: 16 globals, 64 per-CPU words and 64 × 8 per-CPU counters. */
export const SHADOW_HEADER_WORDS = 16 + 64 + 64 * 8;

/**
 * Added to F_INSIDE by a CPU that holds the RUN bit with tasklet_trylock instead of running the
 * callback: the callback must not start then either, and a report should say which it was.
 */
export const INSIDE_TRYLOCK = 0x100;

/** The CPU an F_INSIDE word names (-1 for none). */
export const insideCpu = (inside: number): number =>
  inside === 0 ? -1 : (inside - 1) & (INSIDE_TRYLOCK - 1);

/** "the callback ran on CPU1", or "CPU1 held its RUN bit by tasklet_trylock". */
export function insideWhat(inside: number): string {
  const cpu = insideCpu(inside);
  return inside & INSIDE_TRYLOCK
    ? `CPU${cpu} held its RUN bit by tasklet_trylock`
    : `the callback ran on CPU${cpu}`;
}

// Per-tasklet words (tw(index, field)).
export const F_INSIDE = 0; // CPU + 1 while its callback runs (+ INSIDE_TRYLOCK: a tasklet_trylock holder)
export const F_SCHED_SEQ = 1; // schedule calls started (counted before the call: its run may begin before it returns)
export const F_COVERED = 2; // highest F_SCHED_SEQ a run start has seen
export const F_SCHED_WHILE_RUNNING = 3; // F_SCHED_SEQ of the last schedule that returned while inside
export const F_DISABLED = 4; // sync disables that returned minus enables about to be called
export const F_CTRL = 5; // CPU + 1 holding the control lock (disable/kill/episode)
export const F_EXCLUSIVE = 6; // 1: normal schedulers keep off (kill or episode in progress)
export const F_IN_FLIGHT = 7; // schedule calls in progress (handshake with F_EXCLUSIVE)
export const F_RUNS = 8; // callback runs
export const F_OWNER = 9; // CPU + 1 for a private tasklet, 0 shared
export const F_OWNER_EPOCH = 10; // owner's offline count + 1 at the oldest schedule since the last run start (0: none)
export const F_LAST_PASS = 11; // (cpu << 24 | softirq count & 0xffffff) + 1 of its last run
export const F_BUDGET = 12; // self-reschedules left
export const F_KIND = 13; // TaskletKind
export const F_PAIR = 14; // pair state: PairState
export const F_EPISODE_ACKS = 15; // coalescing episode: CPUs that made their schedules
export const F_EPISODE_OPEN = 26; // 1 while a coalescing episode accepts its CPUs' schedules
export const F_TRACE_ENTRIES = 16; // tasklet_entry events seen (trace oracle)
export const F_RING_POS = 17;
export const F_RING = 18; // RING_SIZE words: recent events
export const RING_SIZE = 8;
// Pass bounds (G13): the softirq invocation of the last run, as the harness saw it.
export const F_INV = 27; // (cpu << 24 | HI << 23 | invocation & 0x7fffff) + 1 of the last run start
export const F_INV_RUNS = 28; // runs in that invocation and vector
export const F_INV_FIRST = 29; // jiffies (low 32 bits) at the first run start seen in it
export const F_INV_EXIT = 30; // jiffies (low 32 bits) at the last run's exit
export const F_SPIN = 31; // 1: the callback reschedules itself on every run while its budget lasts (2: and busy-waits)
export const F_FIFO = 32; // FIFO episode: (CPU + 1) << 16 | position it must run at (G7), 0 none
export const F_NO_SCHED = 33; // 1 while it sits queued without SCHED on purpose: its callback must not run (G12)
export const F_COUNT_HIGH = 34; // disables started minus enables returned: the most the disable count may be (G8)
export const F_COUNT_LOW = 35; // disables returned minus enables started: the least it may be
export const F_COUNT_STEPS = 36; // changes of those two so far (a reader sees whether they moved)
export const F_SLOW_US = 37; // the next run busy-waits this many µs (a kill pair keeps its callback running)
export const F_TRYLOCKS = 38; // tasklet_trylock calls that won, counted before their holder shows in F_INSIDE
export const TASKLET_WORDS = F_TRYLOCKS + 1;

/** Shadow words for a harness with `tasklets` records. */
export const shadowWords = (tasklets: number): number => SHADOW_HEADER_WORDS + tasklets * TASKLET_WORDS;

export enum TaskletKind {
  Shared = 0,
  Private = 1,
  PairNormal = 2,
  PairHi = 3,
}

export enum PairState {
  Idle = 0,
  Pending = 1, // both scheduled in one irqs-off section, neither ran
  HiRan = 2,
}

export enum EventKind {
  Schedule = 1,
  HiSchedule = 2,
  RunStart = 3,
  RunEnd = 4,
  Disable = 5,
  Enable = 6,
  Kill = 7,
  Init = 8,
}

export const tw = (index: number, field: number): number =>
  SHADOW_HEADER_WORDS + index * TASKLET_WORDS + field;

/** Appends an event to the tasklet's ring: kind, CPU and the schedule sequence at the time. */
export function record_event(sh: Int32Array, index: number, kind: EventKind, cpu: number): void {
  const pos = Atomics.add(sh, tw(index, F_RING_POS), 1) % RING_SIZE;
  const seq = Atomics.load(sh, tw(index, F_SCHED_SEQ)) & 0xffff;
  Atomics.store(sh, tw(index, F_RING + pos), (kind << 24) | ((cpu & 0xff) << 16) | seq);
}

export interface RecentEvent {
  kind: string;
  cpu: number;
  schedSeq: number;
}

export function recent_events(sh: Int32Array, index: number): RecentEvent[] {
  const end = Atomics.load(sh, tw(index, F_RING_POS));
  const events: RecentEvent[] = [];
  for (let i = Math.max(0, end - RING_SIZE); i < end; i++) {
    const word = Atomics.load(sh, tw(index, F_RING + (i % RING_SIZE)));
    events.push({ kind: EventKind[word >>> 24] ?? '?', cpu: (word >>> 16) & 0xff, schedSeq: word & 0xffff });
  }
  return events;
}

/** Self-reschedule budget: true if the callback may reschedule itself once more. */
export function take_budget(sh: Int32Array, i: number): boolean {
  return Atomics.sub(sh, tw(i, F_BUDGET), 1) > 0;
}
