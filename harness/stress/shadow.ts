/**
 * The stress oracles' own view of the machine ("shadow state"), in shared words that the
 * workload maintains at the API boundary. Nothing here reads the runtime's SCHED/RUN bits to
 * decide whether those bits did their job.
 */
export const MAX_STRESS_TASKLETS = 1024;
/** Private tasklets per CPU, besides its HI/normal ordering pair. */
export const PRIVATE_PER_CPU = 4;

// Global words.
export const S_PHASE = 0; // Phase
export const S_EPOCH = 1; // drain epoch number
export const S_VIOLATIONS = 2;
export const S_NR_TASKLETS = 3;
export const S_FIRST_ID = 4; // tasklet id of stress tasklet 0 (they are contiguous)
export const S_SEED = 5;
export const S_DELAY_US = 6;
export const S_RESCHED_PCT = 7;
export const S_BURST = 8;
export const S_ORACLES = 9; // 1: oracles on
export const S_DRAIN_ACK = 16; // per CPU: epoch the CPU's task has drained for
export const S_OPS = S_DRAIN_ACK + 64; // per CPU op counters: OPS_PER_CPU words each
export const OPS_PER_CPU = 8;
export const S_TASKLETS = S_OPS + 64 * OPS_PER_CPU;

export enum Phase {
  Run = 0,
  Drain = 1,
  Stop = 2,
}

/** Per-CPU op counters (S_OPS + cpu * OPS_PER_CPU + n). */
export enum OpCounter {
  Schedules = 0,
  Irqs = 1,
  Disables = 2,
  Kills = 3,
  Sections = 4,
  Episodes = 5,
}

// Per-tasklet words (S_TASKLETS + index * TASKLET_WORDS + field).
export const F_INSIDE = 0; // CPU + 1 while its callback runs
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
export const TASKLET_WORDS = F_EPISODE_OPEN + 1;

export const SHADOW_WORDS = S_TASKLETS + MAX_STRESS_TASKLETS * TASKLET_WORDS;

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

export const tw = (index: number, field: number): number => S_TASKLETS + index * TASKLET_WORDS + field;

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
