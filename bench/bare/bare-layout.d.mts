/** Types for bare-layout.mjs (plain JS so the bare workers need no TypeScript loader). */
export declare const GLOBAL: { ready: number; go: number; stop: number; cpus: number; tasklets: number };
export declare const CPU: { head: number; tail: number; pending: number; runs: number; requeues: number };
export declare const CPU_STRIDE: number;
export declare const TASKLET: { state: number; count: number; next: number; func: number };
export declare const TASKLET_STRIDE: number;
export declare const TaskletState: { sched: number; run: number };
