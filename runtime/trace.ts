/**
 * Tracepoints. Each is null when nobody listens, so an untraced run pays one property load and
 * a null check per event. Sinks are installed per CPU thread (tracer, oracles).
 */
export interface Tracepoints {
  softirq_raise: ((vec: number) => void) | null;
  softirq_entry: ((vec: number) => void) | null;
  softirq_exit: ((vec: number) => void) | null;
  irq_handler_entry: ((irq: number) => void) | null;
  irq_handler_exit: ((irq: number) => void) | null;
  tasklet_entry: ((tasklet: number) => void) | null;
  tasklet_exit: ((tasklet: number) => void) | null;
  tasklet_schedule: ((tasklet: number, hi: boolean, effective: boolean) => void) | null;
  tasklet_requeue: ((tasklet: number, hi: boolean) => void) | null;
  tasklet_takeover: ((fromCpu: number) => void) | null;
}

export const trace: Tracepoints = {
  softirq_raise: null,
  softirq_entry: null,
  softirq_exit: null,
  irq_handler_entry: null,
  irq_handler_exit: null,
  tasklet_entry: null,
  tasklet_exit: null,
  tasklet_schedule: null,
  tasklet_requeue: null,
  tasklet_takeover: null,
};
