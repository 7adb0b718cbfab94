/** The locks test module's shared words and irq line (tests import this, not the module). */
export const LOCKS_IRQ = 20;
export const W_COUNTER = 0; // incremented under counter_lock, non-atomically
export const W_ROUNDS_DONE = 1;
export const W_IRQ_RUNS = 2;
export const LOCKS_WORDS = 4;
export const ROUNDS = 2000;
