/**
 * Tracepoints. Each is null when nobody listens, so an untraced run pays one property load and
 * a null check per event. Sinks are installed per CPU thread (tracer, oracles) with
 * attach_tracepoint, which chains them.
 */
export interface Tracepoints {
  softirq_raise: ((vec: number) => void) | null;
  softirq_entry: ((vec: number) => void) | null;
  softirq_exit: ((vec: number) => void) | null;
  irq_handler_entry: ((irq: number) => void) | null;
  irq_handler_exit: ((irq: number, ret: number) => void) | null;
  tasklet_entry: ((tasklet: number) => void) | null;
  tasklet_exit: ((tasklet: number) => void) | null;
  tasklet_schedule: ((tasklet: number, hi: boolean, effective: boolean) => void) | null;
  tasklet_requeue: ((tasklet: number, hi: boolean) => void) | null;
  tasklet_takeover: ((fromCpu: number) => void) | null;
  tasklet_disable: ((tasklet: number) => void) | null;
  tasklet_enable: ((tasklet: number) => void) | null;
  tasklet_kill: ((tasklet: number) => void) | null;
  /** tasklet_disable / tasklet_disable_in_atomic about to return (the callback is not running). */
  tasklet_disable_return: ((tasklet: number) => void) | null;
  /** tasklet_kill about to return (neither scheduled nor running). */
  tasklet_kill_return: ((tasklet: number) => void) | null;
  cpu_hotplug: ((cpu: number, online: boolean) => void) | null;
  timer_start: ((timer: number, expires: number, cpu: number) => void) | null;
  timer_expire_entry: ((timer: number, now: number) => void) | null;
  timer_expire_exit: ((timer: number) => void) | null;
  timer_cancel: ((timer: number) => void) | null;
  workqueue_queue_work: ((work: number, hi: boolean, cpu: number) => void) | null;
  workqueue_execute_start: ((work: number) => void) | null;
  workqueue_execute_end: ((work: number) => void) | null;
  /** Every printk line, on the printing CPU, before it goes to the sink. */
  printk: ((level: string, text: string) => void) | null;
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
  tasklet_disable: null,
  tasklet_enable: null,
  tasklet_kill: null,
  tasklet_disable_return: null,
  tasklet_kill_return: null,
  cpu_hotplug: null,
  timer_start: null,
  timer_expire_entry: null,
  timer_expire_exit: null,
  timer_cancel: null,
  workqueue_queue_work: null,
  workqueue_execute_start: null,
  workqueue_execute_end: null,
  printk: null,
};

type Sink<K extends keyof Tracepoints> = NonNullable<Tracepoints[K]>;

/** Adds a sink to a tracepoint; sinks attached earlier run first. */
export function attach_tracepoint<K extends keyof Tracepoints>(name: K, sink: Sink<K>): void {
  const previous = trace[name] as ((...args: unknown[]) => void) | null;
  const next = sink as (...args: unknown[]) => void;
  trace[name] = (
    previous === null
      ? sink
      : (...args: unknown[]) => {
          previous(...args);
          next(...args);
        }
  ) as Tracepoints[K];
}
