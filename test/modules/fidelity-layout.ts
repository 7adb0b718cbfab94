/** The fidelity test module's shared words and irq lines (tests import this, not the module). */
export const FIDELITY_FIRST_IRQ = 12;
export const NEST_IRQ_A = FIDELITY_FIRST_IRQ;
export const NEST_IRQ_B = FIDELITY_FIRST_IRQ + 1;

export const W_B_PREEMPT = 0; // preempt_count irq B's handler saw
export const W_B_RUNS = 1;
export const W_NEST_RUNS = 2; // runs of the tasklet irq A schedules
export const W_BH_RUNS = 3;
export const W_BH_PREEMPT = 4; // preempt_count the bh tasklet's callback saw
export const W_LEAK_RUNS = 5;
export const FIDELITY_WORDS = 8;
