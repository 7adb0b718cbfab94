/**
 * A read-only view of a running machine's state, for the controller thread: tasklet state
 * words, every CPU's two tasklet queues, what each CPU waits for, its counters, and what they
 * add up to (lost tasklets, tasklets queued twice, waits that cannot end).
 *
 * It reads with Atomics.load only, and never through the kernel's door (kernel/ and the door
 * act on the calling thread's memory attachment, and count as accesses in controlled mode):
 * reading here changes nothing the CPUs see or do. The CPUs run on meanwhile, so two reads are
 * not one snapshot: a finding is a fact about one moment, and callers confirm it (the machine
 * quiet, or the same finding for a while) before they report it.
 */

import { HARDIRQ_MASK, SOFTIRQ_MASK, SOFTIRQ_OFFSET } from '../kernel/preempt.ts';
import { HI_SOFTIRQ, TASKLET_SOFTIRQ } from '../kernel/softirq.ts';
import { read_comm } from '../shm/comm.ts';
import {
  C_COALESCED,
  C_CURRENT_PID,
  C_DISABLES,
  C_ENABLES,
  C_HEARTBEAT,
  C_HI_HEAD,
  C_IRQS_OFF,
  C_IRQS_TAKEN,
  C_KILLS,
  C_KSOFTIRQD_WAKEUPS,
  C_OFFLINE_COUNT,
  C_PREEMPT_COUNT,
  C_REQUEUES,
  C_SCHEDULES,
  C_SOFTIRQ_DEFERRED,
  C_SOFTIRQ_INVOCATIONS,
  C_SOFTIRQ_PENDING,
  C_TASKLET_RUNS,
  C_VEC_HEAD,
  C_WAIT_KIND,
  C_WAIT_PID,
  C_WAIT_SINCE,
  C_WAIT_TASKLET,
  G_ONLINE_MASK,
  G_WARNINGS,
  type MachineMemory,
  T_COUNT,
  T_NEXT,
  T_STATE,
  TASKLET_STATE_RUN,
  TASKLET_STATE_SCHED,
  WaitKind,
} from '../shm/layout.ts';

const SCHED = 1 << TASKLET_STATE_SCHED;
const RUN = 1 << TASKLET_STATE_RUN;

/** One tasklet's struct words, as read now. */
export interface TaskletView {
  id: number;
  /** The raw state word: SCHED and RUN bits. */
  state: number;
  sched: boolean;
  run: boolean;
  /** Disable count. */
  count: number;
  /** Tasklet pointer (id + 1) of the next entry on its queue, 0 for none. */
  next: number;
}

/** tasklet_vec (TASKLET_SOFTIRQ) or tasklet_hi_vec (HI_SOFTIRQ). */
export type QueueKind = 'normal' | 'hi';

/** One CPU queue followed from its head. */
export interface QueueView {
  cpu: number;
  kind: QueueKind;
  /** Tasklet pointer in the head word (0: empty). */
  head: number;
  /** Word index the tail word points at (the last entry's `next` field, or the head word). */
  tail: number;
  /** Tasklet ids in queue order, at most the table's size. */
  ids: number[];
  /** The chain is longer than the table, so it loops. */
  cycle: boolean;
  /** A link points outside the tasklet table. */
  badLink: boolean;
  /** The tail word points at the last entry's `next` field (or the head word when empty). */
  tailOk: boolean;
}

/** What a CPU's sleeping or spinning wait waits for (C_WAIT_*). */
export interface WaiterView {
  cpu: number;
  kind: WaitKind;
  /** The tasklet id it waits on, -1 for none (a wait queue). */
  tasklet: number;
  pid: number;
  /** Jiffies when the wait began. */
  since: number;
}

/** A CPU's monotonic counters (C_TASKLET_RUNS ...), unsigned. */
export interface CpuCounters {
  runs: number;
  schedules: number;
  coalesced: number;
  requeues: number;
  disables: number;
  enables: number;
  kills: number;
  ksoftirqdWakeups: number;
  softirqDeferred: number;
  irqsTaken: number;
  offline: number;
}

const COUNTERS: [keyof CpuCounters, number][] = [
  ['runs', C_TASKLET_RUNS],
  ['schedules', C_SCHEDULES],
  ['coalesced', C_COALESCED],
  ['requeues', C_REQUEUES],
  ['disables', C_DISABLES],
  ['enables', C_ENABLES],
  ['kills', C_KILLS],
  ['ksoftirqdWakeups', C_KSOFTIRQD_WAKEUPS],
  ['softirqDeferred', C_SOFTIRQ_DEFERRED],
  ['irqsTaken', C_IRQS_TAKEN],
  ['offline', C_OFFLINE_COUNT],
];

/** Every tasklet on some queue → the CPUs whose queues hold it (twice on one queue: twice). */
export type Holders = Map<number, number[]>;

/**
 * What the state words and queues say about the machine at one moment:
 * - `queue-cycle`: a CPU's queue loops (or links outside the table);
 * - `queued-twice`: a tasklet is on two queues, or twice on one;
 * - `lost`: SCHED set, RUN clear, on no queue: nothing will ever run it;
 * - `queued-while-running`: on a queue with RUN set (fine for a moment, never for long);
 * - `stuck-waiter`: a CPU waits for a tasklet's SCHED to clear, and it never can: the tasklet
 *   is lost, disabled while queued, or stranded: on an online CPU's queue while that CPU has
 *   the queue's softirq neither pending nor in service, so no pass there will ever take it.
 *   A stuck waiter is a fact about one moment (a pass takes a whole queue before it runs the
 *   entries, a schedule raises just after it appends): harness/oracles/findings.ts confirms it.
 */
export type Finding =
  | { kind: 'queue-cycle'; cpu: number; queue: QueueKind }
  | { kind: 'queued-twice'; tasklet: number; cpus: number[] }
  | { kind: 'lost'; tasklet: number }
  | { kind: 'queued-while-running'; tasklet: number; cpus: number[] }
  | { kind: 'stuck-waiter'; tasklet: number; waiter: WaiterView; reason: 'lost' }
  | { kind: 'stuck-waiter'; tasklet: number; waiter: WaiterView; reason: 'disabled' }
  | { kind: 'stuck-waiter'; tasklet: number; waiter: WaiterView; reason: 'stranded'; on: StrandedOn };

/** Where a stranded tasklet sits, and the softirq invocations its CPU had made by then. */
export interface StrandedOn {
  cpu: number;
  queue: QueueKind;
  invocations: number;
}

const QUEUE_SOFTIRQ: Record<QueueKind, number> = { normal: TASKLET_SOFTIRQ, hi: HI_SOFTIRQ };

export class MachineView {
  readonly nrCpus: number;
  readonly maxTasklets: number;
  private readonly mem: Int32Array;

  constructor(private readonly memory: MachineMemory) {
    this.mem = memory.mem;
    this.nrCpus = memory.layout.params.nrCpus;
    this.maxTasklets = memory.layout.params.maxTasklets;
  }

  /** One word of a CPU's block (C_*). */
  cpuWord(cpu: number, offset: number): number {
    return Atomics.load(this.mem, this.memory.layout.cpu(cpu) + offset);
  }

  online(cpu: number): boolean {
    return (Atomics.load(this.mem, G_ONLINE_MASK + (cpu >> 5)) & (1 << (cpu & 31))) !== 0;
  }

  onlineCpus(): number[] {
    return this.cpus().filter((cpu) => this.online(cpu));
  }

  /** Kernel warnings so far (WARN_ON and friends). */
  warnings(): number {
    return Atomics.load(this.mem, G_WARNINGS);
  }

  tasklet(id: number): TaskletView {
    const at = this.memory.layout.tasklet(id);
    const state = Atomics.load(this.mem, at + T_STATE);
    return {
      id,
      state,
      sched: (state & SCHED) !== 0,
      run: (state & RUN) !== 0,
      count: Atomics.load(this.mem, at + T_COUNT),
      next: Atomics.load(this.mem, at + T_NEXT),
    };
  }

  /** Just the state word: the one read a drain makes per tasklet and poll. */
  taskletState(id: number): number {
    return Atomics.load(this.mem, this.memory.layout.tasklet(id) + T_STATE);
  }

  /** A CPU's queue, followed link by link; stops after the table's size (a cycle). */
  queue(cpu: number, kind: QueueKind): QueueView {
    const { layout } = this.memory;
    const headWord = layout.cpu(cpu) + (kind === 'hi' ? C_HI_HEAD : C_VEC_HEAD);
    const head = Atomics.load(this.mem, headWord);
    const ids: number[] = [];
    let lastNext = headWord;
    let badLink = false;
    let ptr = head;
    while (ptr !== 0 && ids.length <= this.maxTasklets) {
      const id = ptr - 1;
      if (id < 0 || id >= this.maxTasklets) {
        badLink = true;
        break;
      }
      ids.push(id);
      lastNext = layout.tasklet(id) + T_NEXT;
      ptr = Atomics.load(this.mem, lastNext);
    }
    const cycle = ids.length > this.maxTasklets;
    if (cycle) ids.length = this.maxTasklets;
    // The tail word follows the head word (C_VEC_TAIL, C_HI_TAIL).
    const tail = Atomics.load(this.mem, headWord + 1);
    return { cpu, kind, head, tail, ids, cycle, badLink, tailOk: !cycle && !badLink && tail === lastNext };
  }

  /** The tasklet whose `next` field is word `word`, or -1 (the word is no tasklet's link). */
  nextFieldOwner(word: number): number {
    const { layout } = this.memory;
    const first = layout.tasklet(0) + T_NEXT;
    const stride = this.maxTasklets > 1 ? layout.tasklet(1) - layout.tasklet(0) : 1;
    const id = (word - first) / stride;
    return Number.isInteger(id) && id >= 0 && id < this.maxTasklets ? id : -1;
  }

  /** Both queues of every CPU (offline ones too: a dead CPU's queues must have moved). */
  queues(): QueueView[] {
    return this.cpus().flatMap((cpu) => [this.queue(cpu, 'normal'), this.queue(cpu, 'hi')]);
  }

  /** Whether every queue of these CPUs (all by default) is empty: the head words alone. */
  queuesEmpty(cpus: readonly number[] = this.cpus()): boolean {
    return cpus.every((cpu) => this.cpuWord(cpu, C_VEC_HEAD) === 0 && this.cpuWord(cpu, C_HI_HEAD) === 0);
  }

  /** CPUs (of these, all by default) with something on a queue. */
  cpusWithQueued(cpus: readonly number[] = this.cpus()): number[] {
    return cpus.filter((cpu) => !this.queuesEmpty([cpu]));
  }

  /** Who holds each queued tasklet, from one walk of every queue. */
  holders(queues: readonly QueueView[] = this.queues()): Holders {
    const holders: Holders = new Map();
    for (const q of queues) for (const id of q.ids) holders.set(id, [...(holders.get(id) ?? []), q.cpu]);
    return holders;
  }

  /** What each CPU that is in a tasklet or event wait waits for. */
  waiters(): WaiterView[] {
    const waiters: WaiterView[] = [];
    for (const cpu of this.cpus()) {
      const kind = this.cpuWord(cpu, C_WAIT_KIND) as WaitKind;
      if (kind === WaitKind.None) continue;
      const tasklet = this.cpuWord(cpu, C_WAIT_TASKLET) - 1;
      waiters.push({
        cpu,
        kind,
        tasklet: tasklet >= 0 && tasklet < this.maxTasklets ? tasklet : -1,
        pid: this.cpuWord(cpu, C_WAIT_PID),
        since: this.cpuWord(cpu, C_WAIT_SINCE),
      });
    }
    return waiters;
  }

  counters(cpu: number): CpuCounters {
    const counters = {} as CpuCounters;
    for (const [key, offset] of COUNTERS) counters[key] = this.cpuWord(cpu, offset) >>> 0;
    return counters;
  }

  /** Tasklet runs on every CPU together: a drain's measure of progress. */
  totalRuns(): number {
    let runs = 0;
    for (const cpu of this.cpus()) runs += this.cpuWord(cpu, C_TASKLET_RUNS);
    return runs;
  }

  /**
   * Nothing on any queue and every one of `ids` in state 0 (not scheduled, not running): the
   * machine has drained these tasklets.
   */
  drained(ids: readonly number[]): boolean {
    return ids.every((id) => this.taskletState(id) === 0) && this.queuesEmpty();
  }

  /** Nothing on any queue and none of `ids` running: only lost tasklets can be left. */
  quiet(ids: readonly number[]): boolean {
    return this.queuesEmpty() && ids.every((id) => (this.taskletState(id) & RUN) === 0);
  }

  /** Where a tasklet is: its state and the CPUs whose queues hold it. */
  whereIs(id: number, holders: Holders = this.holders()): { tasklet: TaskletView; holders: number[] } {
    return { tasklet: this.tasklet(id), holders: holders.get(id) ?? [] };
  }

  /**
   * The first of `ids` whose `next` links lead back to a tasklet already met, or -1. In a
   * consistent snapshot every list ends in NULL: an entry's link is cleared before it is
   * appended alone, a hot-unplug appends a whole list that ends in NULL, and the stale link of
   * an entry that left its list points into a list that ends. A loop is a list that a pass
   * which took it (off every queue, where findings() cannot see it) walks forever. The links
   * are read one by one on a live machine, so a loop counts only when a second walk reads the
   * very same links (a stale link read before an append cleared it does not last).
   */
  linkCycle(ids: readonly number[]): number {
    for (const id of ids) {
      const first = this.linkWalk(id);
      if (first === null) continue;
      const second = this.linkWalk(id);
      if (second !== null && second.join() === first.join()) return id;
    }
    return -1;
  }

  /** The tasklets met following `next` from `id` up to the first one met twice, or null if the walk ends. */
  private linkWalk(id: number): number[] | null {
    const path: number[] = [];
    for (let at = id; at >= 0 && at < this.maxTasklets; at = this.tasklet(at).next - 1) {
      if (path.includes(at)) return [...path, at];
      path.push(at);
    }
    return null;
  }

  /**
   * Findings about tasklets `ids` (and every queue), from one walk: queue cycles first, then
   * per tasklet in the order given: queued twice, lost, queued while running; then stuck waiters.
   */
  findings(ids: readonly number[]): Finding[] {
    const queues = this.queues();
    const holders = this.holders(queues);
    const found: Finding[] = [];
    for (const q of queues)
      if (q.cycle || q.badLink) found.push({ kind: 'queue-cycle', cpu: q.cpu, queue: q.kind });
    for (const id of ids) {
      const state = this.taskletState(id);
      const cpus = holders.get(id) ?? [];
      if (cpus.length > 1) found.push({ kind: 'queued-twice', tasklet: id, cpus });
      if (state === SCHED && cpus.length === 0) found.push({ kind: 'lost', tasklet: id });
      if ((state & RUN) !== 0 && cpus.length > 0)
        found.push({ kind: 'queued-while-running', tasklet: id, cpus });
    }
    for (const waiter of this.waiters()) {
      if (waiter.kind !== WaitKind.TaskletSchedClear || waiter.tasklet < 0) continue;
      const t = this.tasklet(waiter.tasklet);
      const queued = holders.has(t.id);
      const stranded = t.state === SCHED && t.count === 0 ? this.strandedOn(t.id, queues) : null;
      if (t.state === SCHED && !queued)
        found.push({ kind: 'stuck-waiter', tasklet: t.id, waiter, reason: 'lost' });
      else if (t.sched && t.count > 0 && queued)
        found.push({ kind: 'stuck-waiter', tasklet: t.id, waiter, reason: 'disabled' });
      else if (stranded !== null)
        found.push({ kind: 'stuck-waiter', tasklet: t.id, waiter, reason: 'stranded', on: stranded });
    }
    return found;
  }

  /**
   * What `cpu` is doing, for a hang report: "CPU0 runs pid 1001 (stress/0) in softirq,
   * irqs off". Its current pid, that task's name, and its context from the preempt count.
   */
  describeCpu(cpu: number): string {
    const pid = this.cpuWord(cpu, C_CURRENT_PID);
    const comm = pid === 0 ? 'idle' : read_comm(this.memory, pid) || null;
    const preempt = this.cpuWord(cpu, C_PREEMPT_COUNT);
    const context =
      preempt & HARDIRQ_MASK
        ? 'hardirq'
        : preempt & SOFTIRQ_OFFSET
          ? 'softirq'
          : preempt & SOFTIRQ_MASK
            ? 'task, bh off'
            : 'task';
    const irqs = this.cpuWord(cpu, C_IRQS_OFF) !== 0 ? 'irqs off' : 'irqs on';
    const state = this.online(cpu) ? '' : ', offline';
    return `CPU${cpu} runs pid ${pid}${comm === null ? '' : ` (${comm})`} in ${context}, ${irqs}${state}`;
  }

  /** Whether `cpu` is serving a softirq now (its preempt count's SOFTIRQ_OFFSET). */
  servingSoftirq(cpu: number): boolean {
    return (this.cpuWord(cpu, C_PREEMPT_COUNT) & SOFTIRQ_OFFSET) !== 0;
  }

  /** A word `cpu` bumps in its task loop and in every wait: it moves while the CPU runs. */
  heartbeat(cpu: number): number {
    return this.cpuWord(cpu, C_HEARTBEAT);
  }

  /**
   * Where tasklet `id` sits stranded (SCHED, enabled, not running, on an online CPU's queue
   * whose softirq is neither pending nor in service), or null: a fact about one moment, which
   * the caller confirms with a later look (the same place, no softirq invocation since).
   */
  stranded(id: number): StrandedOn | null {
    const t = this.tasklet(id);
    return t.state === SCHED && t.count === 0 ? this.strandedOn(id, this.queues()) : null;
  }

  /** The one online queue holding `id` whose CPU has its softirq neither pending nor in service. */
  private strandedOn(id: number, queues: readonly QueueView[]): StrandedOn | null {
    const holding = queues.filter((q) => q.ids.includes(id));
    if (holding.length !== 1) return null;
    const { cpu, kind } = holding[0];
    if (!this.online(cpu)) return null;
    const pending = this.cpuWord(cpu, C_SOFTIRQ_PENDING);
    if (this.servingSoftirq(cpu) || (pending & (1 << QUEUE_SOFTIRQ[kind])) !== 0) return null;
    return { cpu, queue: kind, invocations: this.cpuWord(cpu, C_SOFTIRQ_INVOCATIONS) };
  }

  private cpus(): number[] {
    return Array.from({ length: this.nrCpus }, (_, cpu) => cpu);
  }
}

/** "SCHED|RUN", "SCHED", "0": a state word as the kernel's bit names. */
export function stateFlags(state: number): string {
  return [state & SCHED ? 'SCHED' : '', state & RUN ? 'RUN' : ''].filter(Boolean).join('|') || '0';
}
