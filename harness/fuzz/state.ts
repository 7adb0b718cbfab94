/**
 * What every piece of the fuzz module shares on a CPU: the shared words, tasklet handles, the
 * logical clock and interval log, violation reports, and the tracked schedule that keeps the
 * oracles' bookkeeping around every tasklet_schedule call.
 */
import {
  report,
  shared_words,
  type TaskletStruct,
  tasklet_from_id,
  tasklet_hi_schedule,
  tasklet_schedule,
} from 'tasklet-rt';
import { on_schedule_return, on_schedule_start } from '../oracles/call-checks.ts';
import { offlineCount } from '../oracles/cpu-context.ts';
import type { Violation } from '../oracles/guarantees.ts';
import { EventKind, F_IN_FLIGHT, recent_events, record_event, tw } from '../oracles/shadow.ts';
import {
  FUZZ_SHADOW_WORDS,
  FUZZ_WORDS,
  type IntervalKind,
  kindCode,
  LOG_CAPACITY,
  LOG_RECORD,
  SHADOW_NAME,
  W_CLOCK,
  W_GENERATION,
  W_IDS,
  W_LOG,
  W_LOG_LEN,
  W_NR_TASKLETS,
  W_VIOLATIONS,
  WORDS_NAME,
} from './layout.ts';
import type { FuzzViolation } from './oracles.ts';

export const sh = shared_words(FUZZ_SHADOW_WORDS, SHADOW_NAME);
export const words = shared_words(FUZZ_WORDS, WORDS_NAME);

export const tl = (i: number): TaskletStruct => tasklet_from_id(Atomics.load(words, W_IDS + i));

/** Program tasklet number of a runtime tasklet id, -1 if it is none of this program's. */
export function indexOf(id: number): number {
  const n = Atomics.load(words, W_NR_TASKLETS);
  for (let i = 0; i < n; i++) if (Atomics.load(words, W_IDS + i) === id) return i;
  return -1;
}

export const tick = (): number => Atomics.add(words, W_CLOCK, 1);

/** Records that an op of `kind` was in progress on `cpu` from tick `start` to now. */
export function logInterval(cpu: number, kind: IntervalKind, start: number): void {
  const end = tick();
  const slot = Atomics.add(words, W_LOG_LEN + cpu, 1);
  if (slot >= LOG_CAPACITY) return;
  const at = W_LOG + (cpu * LOG_CAPACITY + slot) * LOG_RECORD;
  Atomics.store(words, at, kindCode(kind));
  Atomics.store(words, at + 1, start);
  Atomics.store(words, at + 2, end);
}

export function fail(v: Violation | FuzzViolation | null): void {
  if (v === null) return;
  Atomics.add(words, W_VIOLATIONS, 1);
  report('violation', {
    ...v,
    events: v.tasklet >= 0 ? recent_events(sh, v.tasklet) : [],
    generation: Atomics.load(words, W_GENERATION),
  });
}

/** tasklet_schedule or tasklet_hi_schedule with the oracles' bookkeeping around it. */
export function scheduleTracked(i: number, cpu: number, hi: boolean): void {
  Atomics.add(sh, tw(i, F_IN_FLIGHT), 1);
  const seq = on_schedule_start(sh, i);
  if (hi) tasklet_hi_schedule(tl(i));
  else tasklet_schedule(tl(i));
  on_schedule_return(sh, i, cpu, seq, offlineCount(cpu));
  record_event(sh, i, hi ? EventKind.HiSchedule : EventKind.Schedule, cpu);
  Atomics.sub(sh, tw(i, F_IN_FLIGHT), 1);
}

/** This program's tasklets the FIFO oracle may place (fifoTasklets), set by this CPU's thread. */
let placeable = new Set<number>();
export const fifo_placeable = (i: number): boolean => placeable.has(i);
export function setFifoPlaceable(tasklets: readonly number[]): void {
  placeable = new Set(tasklets);
}
