// Word layout of the bare baseline's Int32Array, shared by its controller and its workers.
export const GLOBAL = { ready: 0, go: 1, stop: 2, cpus: 16, tasklets: 16 + 64 * 16 };
export const CPU = { head: 0, tail: 1, pending: 2, runs: 3, requeues: 4 };
export const CPU_STRIDE = 16; // one 64-byte line per CPU
export const TASKLET = { state: 0, count: 1, next: 2, func: 3 };
export const TASKLET_STRIDE = 4;
export const TaskletState = { sched: 1, run: 2 };
