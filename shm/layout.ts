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
/** Machine time skipped while idle (kernel/idle-skip.ts), in ms: the boot epoch has moved back by it. */
export const F64_SKIPPED_MS = 1;

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
export const G_IRQ_MACHINE_WIDE = G + 18; // lines request_irq gave a machine-wide handler (masked while none)
export const G_HEAP_HINT = G + 19; // next slot kzalloc tries in the shared-object heap
export const G_CPU_EVENTS = G + 20; // futex word: bumped (and notified) as a CPU goes idle or changes state
export const G_SKIP_IDLE = G + 21; // 1: free-running, idle time is skipped (kernel/idle-skip.ts)
export const G_IDLE_SLEEPERS = G + 22; // idle skipping: CPUs asleep in idle (low 8 bits) in the epoch above them
export const G_IDLE_SKIPS = G + 23; // idle skips made (counter)
export const G_PARKED_CPUS = G + 24; // offline CPUs asleep in their park loop (idle skipping's count)
export const G_MODULES_GONE = G + 31; // bit per module (load order, first 31) whose module_exit returned
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
// The timer base (kernel/timer.ts): lock, the pending list (sorted by expiry), the expired
// list a TIMER_SOFTIRQ pass is running, base->running_timer, and counters.
export const C_TIMER_LOCK = 100; // 0 free, else holder CPU + 1
export const C_TIMER_HEAD = 101; // first pending timer (pointer: id + 1) or 0
export const C_TIMER_EXPIRED = 102; // first collected, not yet run timer or 0
export const C_RUNNING_TIMER = 103; // pointer of the timer whose callback runs now, or 0
export const C_TIMER_RUNS = 104; // timer callbacks run (counter)
export const C_TIMER_TAKEOVER = 105; // timers adopted from dead CPUs (counter)
// The two BH worker pools (kernel/workqueue.ts): normal (run from TASKLET_SOFTIRQ) and highpri
// (HI_SOFTIRQ), each a FIFO worklist {head, tail: the last work's pointer or 0} and the work it
// runs now; one lock for both.
export const C_BH_LOCK = 108;
export const C_BH_HEAD = 109; // normal pool: head, tail, current work (pointers: id + 1)
export const C_BH_HI_HEAD = 112; // highpri pool: head, tail, current work
export const C_BH_RUNS = 115; // BH work items run (counter)
export const C_IN_HANDLER = 116; // irq + 1 while this CPU runs that line's handler (synchronize_irq)
export const C_VAR_WAKES = 117; // wake_up_var / wake_up_waiters kicks of this CPU (counter)
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
  TimerRunning = 5, // del_timer_sync: the callback runs on another CPU
  WorkFlush = 6, // flush_work / cancel_work_sync / disable_work_sync
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
export const T_CONTAINER = 9; // what from_tasklet returns: the module struct holding it (0 unless set)
export const TASKLET_STRIDE = 10;

export enum TaskletAlloc {
  Free = 0,
  Dynamic = 1,
  Static = 2,
}

export const TASKLET_STATE_SCHED = 0;
export const TASKLET_STATE_RUN = 1;

/** struct timer_list fields (kernel/timer.ts). A timer pointer is its table index + 1. */
export const TM_LIST = 0; // word address of the head of the list it is on; 0: not pending
export const TM_NEXT = 1; // next timer pointer or 0
export const TM_PREV = 2; // previous timer pointer or 0 (first on its list)
export const TM_EXPIRES_LO = 3; // expires, an unsigned long: low and high 32 bits
export const TM_EXPIRES_HI = 4;
export const TM_FUNC = 5; // callback id; -1: not set up
export const TM_CPU = 6; // the base it belongs to (pending or not); TIMER_MIGRATING while moving
export const TM_FLAGS = 7; // timer_setup flags
export const TM_CONTAINER = 8; // what from_timer returns: the module struct holding it (0 unless set)
export const TM_ALLOC = 9; // TaskletAlloc values: free, dynamic, static
export const TM_WAITERS = 10; // two words: CPUs sleeping in del_timer_sync on it
export const TIMER_STRIDE = 12;
export const MAX_TIMERS = 512;
export const TIMER_MIGRATING = -1;

/** struct work_struct fields (kernel/workqueue.ts). A work pointer is its table index + 1. */
export const WK_STATE = 0; // bit WORK_STRUCT_PENDING
export const WK_DISABLE = 1; // disable depth (disable_work / enable_work)
export const WK_NEXT = 2; // next work on its worklist, or 0
export const WK_FUNC = 3; // callback id; -1: not initialised
export const WK_POOL = 4; // pool it was last queued on: cpu * 2 + highpri; -1: never
export const WK_CONTAINER = 5; // what from_work returns (0 unless set)
export const WK_ALLOC = 6; // TaskletAlloc values
export const WK_STARTED = 7; // runs started (for flush_work)
export const WK_FINISHED = 8; // runs finished
export const WK_WAITERS = 9; // two words: CPUs sleeping in flush/cancel on it
export const WORK_STRIDE = 12;
export const MAX_WORKS = 512;
export const WORK_STRUCT_PENDING = 0;

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

/** Spinlocks (spinlock_t): a table of static locks, declared by modules in load order. */
export const MAX_SPINLOCKS = 64;
export const L_LOCKED = 0; // bit 0: the lock (arch_spinlock_t)
export const L_MAGIC = 1; // SPINLOCK_MAGIC once spin_lock_init ran (CONFIG_DEBUG_SPINLOCK)
export const L_OWNER_CPU = 2; // owner CPU + 1, 0 when free
export const L_OWNER_PID = 3;
export const SPINLOCK_STRIDE = 4;
export const SPINLOCK_MAGIC = 0xdead4ead | 0;

/**
 * Lockdep's shared state: one lock class per static lock. Per class: usage bits (LockUsage),
 * the bits already reported, and for each usage the call site that first showed it; the
 * dependency graph (class a was held when class b was taken) as a bit matrix, with the site of
 * each edge's first acquisition. Sites are Latin-1 text, SITE_WORDS words each.
 */
export const SITE_WORDS = 16;
export const LOCK_USAGES = 4;
export const LOCKDEP_USAGE = 0; // MAX_SPINLOCKS words
export const LOCKDEP_REPORTED = LOCKDEP_USAGE + MAX_SPINLOCKS; // MAX_SPINLOCKS words
export const LOCKDEP_DEPS = LOCKDEP_REPORTED + MAX_SPINLOCKS; // MAX_SPINLOCKS * 2 words (64-bit rows)
export const LOCKDEP_USAGE_SITES = LOCKDEP_DEPS + MAX_SPINLOCKS * 2;
export const LOCKDEP_EDGE_SITES = LOCKDEP_USAGE_SITES + MAX_SPINLOCKS * LOCK_USAGES * SITE_WORDS;
const LOCKDEP_WORDS = LOCKDEP_EDGE_SITES + MAX_SPINLOCKS * MAX_SPINLOCKS * SITE_WORDS;

/**
 * The sanitizers' shared state (kernel/kcsan.ts, kernel/kasan.ts). A call-site record is a task
 * (cpu, pid, context) and a call trace as Latin-1 text of REC_TEXT_WORDS words.
 */
export const REC_CPU = 0; // cpu + 1; 0: no record
export const REC_PID = 1;
export const REC_CONTEXT = 2; // 0 task, 1 softirq, 2 hardirq
export const REC_TEXT = 3;
export const REC_TEXT_WORDS = 64;
export const REC_WORDS = REC_TEXT + REC_TEXT_WORDS;

/** KCSAN watchpoints: one slot per address class (word index mod KCSAN_SLOTS). */
export const KCSAN_SLOTS = 64;
export const KW_ENC = 0; // (addr + 1) << 2 | KcsanSlot state; 0: free
export const KW_WRITE = 1; // the watcher writes (1) or reads (0)
export const KW_CPU = 2; // the watcher's cpu and context: accesses from there are program-ordered
export const KW_CONTEXT = 3;
export const KW_LOCKS = 4; // two words: lock classes the watcher holds in its context
export const KW_OTHER_WRITE = 6; // the access that hit the watchpoint: write or read, value, record
export const KW_OTHER = 7;
export const KCSAN_SLOT_STRIDE = KW_OTHER + REC_WORDS;
/** Reports already made (hashes of their titles, machine-wide; 0: empty). */
export const REPORTED_SLOTS = 128;

/** Shared objects (kernel/shared-data.ts): a header of state, size, type, then two records. */
export const OBJ_STATE = 0; // ObjectState
export const OBJ_SIZE = 1; // fields
export const OBJ_TYPE = 2;
export const OBJ_ALLOCATED = 3; // record: who allocated it
export const OBJ_FREED = OBJ_ALLOCATED + REC_WORDS; // record: who freed it
export const OBJ_HEADER = OBJ_FREED + REC_WORDS;
export const OBJ_MAX_FIELDS = 32;
/** The kzalloc heap: fixed slots, handed out round robin (a freed slot waits a whole round). */
export const HEAP_SLOTS = 256;
export const HEAP_SLOT_STRIDE = OBJ_HEADER + OBJ_MAX_FIELDS;

export enum ObjectState {
  Static = 0, // a module's DEFINE_SHARED data (never freed)
  Live = 0x6b7a0001,
  Freed = 0x6b7a00fb,
}

/** Per tasklet: who allocated, last killed and freed it (KASAN's history). */
export const TH_ALLOCATED = 0;
export const TH_KILLED = REC_WORDS;
export const TH_FREED = 2 * REC_WORDS;
export const TASKLET_HISTORY_STRIDE = 3 * REC_WORDS;
/** Tasklets past this id have no history (a table of a million slots should not cost 600 MB). */
export const TASKLET_HISTORY_SLOTS = 4096;

/** Per line, machine-wide: its request_irq'd module callback, and its disable_irq state. */
export const IRQD_FUNC = 0; // callback id + 1; 0: none
export const IRQD_DEV = 1; // dev_id, a number (a shared object's address)
export const IRQD_DEPTH = 2; // disable_irq nesting depth; the line is masked while it is not 0
export const IRQD_PENDING = 3; // 1: raised while masked or running elsewhere, to be run again (IRQS_PENDING)
export const IRQD_INPROGRESS = 4; // CPU + 1 running a machine-wide line's handler (IRQD_IRQ_INPROGRESS)
export const IRQ_DESC_STRIDE = 5;

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
  readonly spinlockBase: number;
  readonly lockdepBase: number;
  readonly timerBase: number;
  readonly workBase: number;
  readonly irqDescBase: number;
  readonly kcsanBase: number;
  readonly reportedBase: number;
  readonly heapBase: number;
  readonly taskletHistoryBase: number;
  readonly totalWords: number;

  constructor(readonly params: LayoutParams) {
    this.cpuBase = G + GLOBAL_WORDS;
    this.taskletBase = this.cpuBase + params.nrCpus * CPU_STRIDE;
    this.moduleBase = this.taskletBase + params.maxTasklets * TASKLET_STRIDE;
    this.pidCommBase = this.moduleBase + MODULE_WORDS;
    this.spinlockBase = this.pidCommBase + PID_COMM_SLOTS * PID_COMM_STRIDE;
    this.lockdepBase = this.spinlockBase + MAX_SPINLOCKS * SPINLOCK_STRIDE;
    this.timerBase = this.lockdepBase + LOCKDEP_WORDS;
    this.workBase = this.timerBase + MAX_TIMERS * TIMER_STRIDE;
    this.irqDescBase = this.workBase + MAX_WORKS * WORK_STRIDE;
    this.kcsanBase = this.irqDescBase + NR_IRQS * IRQ_DESC_STRIDE;
    this.reportedBase = this.kcsanBase + KCSAN_SLOTS * KCSAN_SLOT_STRIDE;
    this.heapBase = this.reportedBase + REPORTED_SLOTS;
    this.taskletHistoryBase = this.heapBase + HEAP_SLOTS * HEAP_SLOT_STRIDE;
    this.totalWords =
      this.taskletHistoryBase + Math.min(params.maxTasklets, TASKLET_HISTORY_SLOTS) * TASKLET_HISTORY_STRIDE;
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

  /** Word index of a spinlock's words, from its table id. */
  spinlock(id: number): number {
    return this.spinlockBase + id * SPINLOCK_STRIDE;
  }

  /** Word index of a timer_list, from its table id. */
  timer(id: number): number {
    return this.timerBase + id * TIMER_STRIDE;
  }

  /** Word index of a work_struct, from its table id. */
  work(id: number): number {
    return this.workBase + id * WORK_STRIDE;
  }

  /** Word index of an interrupt line's machine-wide handler. */
  irqDesc(irq: number): number {
    return this.irqDescBase + irq * IRQ_DESC_STRIDE;
  }

  /** Word index of a kzalloc heap slot's header. */
  heapSlot(slot: number): number {
    return this.heapBase + slot * HEAP_SLOT_STRIDE;
  }

  /** Word index of a tasklet's KASAN history, or -1 for a tasklet without one. */
  taskletHistory(id: number): number {
    if (id >= TASKLET_HISTORY_SLOTS) return -1;
    return this.taskletHistoryBase + id * TASKLET_HISTORY_STRIDE;
  }

  /** Word index of a KCSAN watchpoint slot. */
  kcsanSlot(slot: number): number {
    return this.kcsanBase + slot * KCSAN_SLOT_STRIDE;
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
