/** Shared-word layout of the BH work test module (tests read it directly). */
export const WORKS = 8;
export const F_RUNS = 0;
export const F_INSIDE = 1;
export const F_OVERLAPS = 2;
export const F_CPU = 3;
export const F_ORDER = 4; // global sequence number of the last run
export const F_SPIN_US = 5; // busy time inside the function, or SPIN_HOLD
/** F_SPIN_US value: the function spins until the test sets F_SPIN_US to 0 (at most 10 s). */
export const SPIN_HOLD = -1;
export const F_REQUEUE = 6; // re-queues left (from the work function itself)
export const F_BAD_CONTEXT = 7; // runs outside serving softirq, or in hardirq
export const F_CONTAINER = 8;
export const F_HI = 9; // 1: last queued on system_bh_highpri_wq (its own re-queues go there too)
export const F_RELEASED = 10; // SPIN_HOLD: runs let go so far (run k holds while F_RELEASED <= k)
export const FIELDS = 12;
export const W_SEQ = WORKS * FIELDS;
export const W_TASKLET_ORDER = W_SEQ + 1; // sequence number of the companion tasklet's last run
export const W_TASKLET_HI_ORDER = W_SEQ + 2;
export const WORDS = W_SEQ + 3;
