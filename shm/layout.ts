/**
 * The one place that knows where things live in the machine's SharedArrayBuffer.
 *
 * Everything is 32-bit words in one Int32Array (`mem`), plus a small Float64 header for the
 * shared clock's epoch. A "pointer" in the kernel sense is a word index into `mem`; a tasklet
 * pointer is its table index + 1 so that 0 stays NULL.
 */

export const MAX_CPUS = 64;
export const NR_IRQS = 32;
export const NR_SOFTIRQS = 10;

/** Float64 slots at the start of the buffer. */
export const F64_SLOTS = 8;
export const F64_BOOT_EPOCH_MS = 0;

/** Global words (indices into `mem`), after the Float64 header. */
const G = F64_SLOTS * 2;
export const G_MAGIC = G + 0;
export const G_NR_CPUS = G + 1;
export const G_HZ = G + 2;
export const G_JIFFIES = G + 3;
export const G_STOP = G + 4;
export const G_ONLINE_MASK = G + 5; // two words: CPUs 0-31, 32-63
export const G_NEXT_PID = G + 7;
export const G_MAX_TASKLETS = G + 8;
export const G_STATIC_TASKLETS = G + 9;
export const G_ALLOC_HINT = G + 10;
export const G_WARNINGS = G + 11;
export const G_OOPSES = G + 12;
export const G_BOOTED = G + 13;
export const G_GO = G + 14;
export const G_WARN_ONCE = G + 16; // bitmap of WARN_ONCE sites that already fired
export const G_STATIC_READY = G + 17; // CPU0 wrote the static tasklets: other CPUs may bring themselves up
const GLOBAL_WORDS = 32;

export const MAGIC = 0x7a5c1e7;

/** Per-CPU block. Only the owning CPU writes its queues, pending word and preempt count. */
export const C_WAKE = 0; // futex word: bumped (and notified) to wake the CPU from a sleep
export const C_IRQ_PENDING = 1; // one bit per interrupt line
export const C_IRQS_OFF = 2; // mirror of the local interrupt flag, for observers
export const C_PREEMPT_COUNT = 3; // mirror of preempt_count, for observers
export const C_SOFTIRQ_PENDING = 4;
export const C_VEC_HEAD = 5; // tasklet_vec {head, tail}
export const C_VEC_TAIL = 6;
export const C_HI_HEAD = 7; // tasklet_hi_vec {head, tail}
export const C_HI_TAIL = 8;
export const C_CURRENT_PID = 9;
export const C_STATE = 10; // CpuState
export const C_REQUEST = 11; // CpuRequest from the controller
export const C_HEARTBEAT = 12;
export const C_SOFTIRQ_INVOCATIONS = 13; // handle_softirqs calls on this CPU (observers tell invocations apart)
export const C_WAIT_KIND = 14; // what a sleeping/spinning wait on this CPU waits for (WaitKind)
export const C_WAIT_TASKLET = 15; // tasklet id + 1 it waits on
export const C_WAIT_PID = 16; // pid of the waiting task
export const C_WAIT_SINCE = 17; // jiffies when the wait began
export const C_NR_RUNNING = 18;
// Counters (monotonic, owner-written)
export const C_TASKLET_RUNS = 20;
export const C_SCHEDULES = 21; // effective tasklet_schedule/_hi_schedule (SCHED was clear)
export const C_COALESCED = 22; // schedules that found SCHED set
export const C_REQUEUES = 23; // entries put back by tasklet_action (locked elsewhere or disabled)
export const C_DISABLES = 24;
export const C_ENABLES = 25;
export const C_KILLS = 26;
export const C_KSOFTIRQD_WAKEUPS = 27;
export const C_SOFTIRQ_DEFERRED = 28; // handle_softirqs hit its pass or time bound
export const C_IRQS_TAKEN = 29;
export const C_TAKEOVER = 30; // two words: mask of dead CPUs whose queues this CPU must splice in
export const C_OFFLINE_COUNT = 19; // times this CPU went offline (bumped as it dies, interrupts off)
export const C_SOFTIRQ_COUNT = 32; // NR_SOFTIRQS words: /proc/softirqs
export const C_IRQ_COUNT = C_SOFTIRQ_COUNT + NR_SOFTIRQS; // NR_IRQS words: /proc/interrupts
export const CPU_STRIDE = 128;

export enum CpuState {
  Offline = 0,
  Online = 1,
  Dead = 2,
}

export enum CpuRequest {
  None = 0,
  Offline = 1,
  Online = 2,
}

export enum WaitKind {
  None = 0,
  TaskletRunClear = 1, // tasklet_unlock_wait / tasklet_disable
  TaskletSchedClear = 2, // tasklet_kill, first phase
  TaskletSpin = 3, // tasklet_unlock_spin_wait / tasklet_disable_in_atomic
  Event = 4, // wait_event on a wait queue
}

/** Tasklet struct fields. */
export const T_STATE = 0; // bit TASKLET_STATE_SCHED, bit TASKLET_STATE_RUN
export const T_COUNT = 1; // disable count
export const T_NEXT = 2; // tasklet pointer (id + 1) or 0
export const T_FUNC = 3; // callback id in every CPU's callback registry
export const T_DATA = 4; // `unsigned long data` (32 bits here)
export const T_USE_CALLBACK = 5;
export const T_ALLOC = 6; // TaskletAlloc
export const T_WAITERS = 7; // two words: bitmask of CPUs sleeping in wait_var_event on this tasklet
export const TASKLET_STRIDE = 10;

export enum TaskletAlloc {
  Free = 0,
  Dynamic = 1,
  Static = 2,
}

export const TASKLET_STATE_SCHED = 0;
export const TASKLET_STATE_RUN = 1;

/** Words modules may claim for their own shared state (see `shared_words`). */
export const MODULE_WORDS = 1 << 16;

/**
 * pid → comm, written when a task is created, so the controller's watchdog can name the task a
 * CPU runs or a waiter is (the kernel's `[comm:pid]`). Slot pid % PID_COMM_SLOTS: pid, then the
 * comm as TASK_COMM_LEN bytes of Latin-1 in four words.
 */
export const PID_COMM_SLOTS = 1024;
export const TASK_COMM_LEN = 16;
export const PID_COMM_STRIDE = 1 + TASK_COMM_LEN / 4;

export interface LayoutParams {
  nrCpus: number;
  maxTasklets: number;
}

/** Where each region starts, for a given machine size. */
export class Layout {
  readonly cpuBase: number;
  readonly taskletBase: number;
  readonly moduleBase: number;
  readonly pidCommBase: number;
  readonly totalWords: number;

  constructor(readonly params: LayoutParams) {
    this.cpuBase = G + GLOBAL_WORDS;
    this.taskletBase = this.cpuBase + params.nrCpus * CPU_STRIDE;
    this.moduleBase = this.taskletBase + params.maxTasklets * TASKLET_STRIDE;
    this.pidCommBase = this.moduleBase + MODULE_WORDS;
    this.totalWords = this.pidCommBase + PID_COMM_SLOTS * PID_COMM_STRIDE;
  }

  cpu(cpu: number): number {
    return this.cpuBase + cpu * CPU_STRIDE;
  }

  /** Word index of a tasklet's struct, from its table id. */
  tasklet(id: number): number {
    return this.taskletBase + id * TASKLET_STRIDE;
  }

  /** Tasklet id of the struct whose `next` field is at word `nextWord` (the inverse of &t->next). */
  taskletOfNextField(nextWord: number): number {
    return (nextWord - T_NEXT - this.taskletBase) / TASKLET_STRIDE;
  }

  /** Word index of the pid → comm slot for `pid`. */
  pidComm(pid: number): number {
    return this.pidCommBase + (pid % PID_COMM_SLOTS) * PID_COMM_STRIDE;
  }

  get bytes(): number {
    return this.totalWords * 4;
  }
}

export interface MachineMemory {
  readonly sab: SharedArrayBuffer;
  readonly mem: Int32Array;
  readonly f64: Float64Array;
  readonly layout: Layout;
}

export function createMemory(params: LayoutParams): MachineMemory {
  const layout = new Layout(params);
  const sab = new SharedArrayBuffer(layout.bytes);
  return viewMemory(sab, params);
}

export function viewMemory(sab: SharedArrayBuffer, params: LayoutParams): MachineMemory {
  const layout = new Layout(params);
  return { sab, mem: new Int32Array(sab), f64: new Float64Array(sab, 0, F64_SLOTS), layout };
}
