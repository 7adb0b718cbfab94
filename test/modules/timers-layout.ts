/** Shared-word layout of the timers test module (tests read it directly). */
export const TIMERS = 8;
export const F_RUNS = 0;
export const F_INSIDE = 1;
export const F_OVERLAPS = 2;
export const F_EARLY = 3; // runs before the expires the arming side recorded
export const F_CPU = 4;
export const F_CONTEXT = 5; // 1: in_serving_softirq and not in_hardirq, at every run
export const F_EXPIRES = 6; // expires of the last arm (low 32 bits)
export const F_REARM = 7; // re-arms left (the callback re-arms its own timer, T4)
export const F_REARM_DELAY = 8;
export const F_SPIN_US = 9; // busy time inside the callback
export const F_ORDER = 10; // global sequence number of the last run
export const F_CONTAINER = 11; // from_timer(t) at the last run
export const F_BAD_CONTEXT = 12;
export const FIELDS = 16;
export const W_SEQ = TIMERS * FIELDS;
export const WORDS = W_SEQ + 1;
