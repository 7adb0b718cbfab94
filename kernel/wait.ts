/**
 * Waiting for a tasklet's state bit to clear: the kernel's wait_var_event (sleeping) and the
 * spin of tasklet_unlock_spin_wait. Both are spin-then-sleep here, because a host core may be
 * shared by several emulated CPUs.
 *
 * A sleeping wait registers this CPU in the tasklet's waiter mask and sleeps on the CPU's wake
 * word; wake_up_var kicks the CPUs in the mask, interrupts kick it too. While its task sleeps,
 * the CPU still serves interrupts and runs pending softirqs as ksoftirqd, as the kernel would
 * (other tasks of this CPU wait: a generator on the stack cannot be switched away from).
 */

import { machineMs } from '../shm/clock.ts';
import {
  cpu_pause,
  cpu_sleep,
  layout,
  plain_inc,
  plain_read,
  plain_write,
  raw_add,
  raw_and,
  raw_load,
  raw_or,
  raw_store,
  test_bit,
  under_control,
} from '../shm/door.ts';
import {
  C_HEARTBEAT,
  C_IRQ_PENDING,
  C_VAR_WAKES,
  C_WAIT_KIND,
  C_WAIT_PID,
  C_WAIT_SINCE,
  C_WAIT_TASKLET,
  C_WAKE,
  G_NR_CPUS,
  G_STOP,
  T_STATE,
  T_WAITERS,
  TASKLET_STATE_SCHED,
  WaitKind,
} from '../shm/layout.ts';
import { takeover_while_sleeping } from './hotplug.ts';
import { do_IRQ, poll_local_timer } from './irq.ts';
import { irqs_disabled, local_irq_disable, local_irq_enable } from './irqflags.ts';
import { MachineHalt } from './oops.ts';
import { this_cpu } from './percpu.ts';
import { in_atomic, preempt_count } from './preempt.ts';
import { printk } from './printk.ts';
import { current, idle_task, set_current } from './sched.ts';
import { handle_softirqs, local_softirq_pending, this_ksoftirqd } from './softirq.ts';
import { report_stranded_tasklets } from './stranded-tasklets.ts';
import type { TaskletStruct } from './tasklet-table.ts';
import { jiffies, next_tick_ms } from './tick.ts';
import { kick_cpu } from './wake.ts';

/**
 * About 100 µs of spinning before a sleeping wait sleeps: short, because the kernel's
 * wait_var_event sleeps at once, and a wait that sleeps is one whose wake-up is checked.
 */
const SPINS_BEFORE_SLEEP = 20;
/**
 * Under controlled mode each spin is a decision, so the count is part of every recorded
 * schedule: it stays what the repro files were recorded with.
 */
const CONTROLLED_SPINS_BEFORE_SLEEP = 200;

const spinsBeforeSleep = (): number => (under_control() ? CONTROLLED_SPINS_BEFORE_SLEEP : SPINS_BEFORE_SLEEP);
/** Upper bound of one sleep, so a lost wake-up costs at most this much. */
const MAX_SLEEP_MS = 2;

export function machine_stopping(): boolean {
  return raw_load(G_STOP) !== 0;
}

/**
 * might_sleep(): a wait that may sleep, called from atomic context, is a kernel BUG; says so and
 * returns false (the caller then spins, as it cannot sleep). The kernel calls it before testing
 * the wait's condition, so it reports even when no wait turns out to be needed. The kernel
 * rate-limits the report to one a second; here each call that may sleep reports once.
 */
export function might_sleep(where: string): boolean {
  if (!in_atomic() && !irqs_disabled()) return true;
  const task = current();
  printk(
    'err',
    `BUG: sleeping function called from invalid context at kernel/softirq.c (${where})\n` +
      `in_atomic(): ${in_atomic() ? 1 : 0}, irqs_disabled(): ${irqs_disabled() ? 1 : 0}, non_block: 0, pid: ${task.pid}, name: ${task.comm}\n` +
      `preempt_count: ${preempt_count().toString(16)}, expected: 0`,
  );
  return false;
}

/** wake_up_var(&t->state): wakes the CPUs sleeping on this tasklet. */
export function wake_up_var(t: TaskletStruct): void {
  wake_up_waiters(t.addr + T_WAITERS);
}

function publishWait(kind: WaitKind, t: TaskletStruct): void {
  const base = this_cpu.base;
  plain_write(base + C_WAIT_TASKLET, t.id + 1);
  plain_write(base + C_WAIT_PID, current().pid);
  plain_write(base + C_WAIT_SINCE, jiffies());
  raw_store(base + C_WAIT_KIND, kind);
}

function clearWait(): void {
  raw_store(this_cpu.base + C_WAIT_KIND, WaitKind.None);
}

/** Spins (with interrupts taken where enabled) until `bit` of t->state is clear. */
export function spin_until_clear(t: TaskletStruct, bit: number): void {
  if (!test_bit(bit, t.addr + T_STATE)) return;
  publishWait(WaitKind.TaskletSpin, t);
  while (test_bit(bit, t.addr + T_STATE)) {
    plain_inc(this_cpu.base + C_HEARTBEAT);
    if (machine_stopping()) throw new MachineHalt();
    cpuRelaxInWait();
  }
  clearWait();
}

function cpuRelaxInWait(): void {
  // cpu_relax through the door is the interrupt point; the explicit poll keeps the tick alive.
  if (!this_cpu.irqsOff) poll_local_timer();
  cpu_pause(0.005);
}

/**
 * wait_var_event(&t->state, !test_bit(bit, &t->state)): sleeps until `bit` clears. The caller
 * made its might_sleep() check: `mayBlock` false (atomic context) makes it a spin.
 */
export function sleep_until_clear(t: TaskletStruct, bit: number, kind: WaitKind, mayBlock: boolean): void {
  const state = t.addr + T_STATE;
  if (!mayBlock) {
    spin_until_clear(t, bit);
    return;
  }
  if (!test_bit(bit, state)) return;
  const cpu = this_cpu.id;
  const waiters = t.addr + T_WAITERS + (cpu >> 5);
  const me = 1 << (cpu & 31);
  const wake = this_cpu.base + C_WAKE;
  const sleeper = current();
  const varWakes = this_cpu.base + C_VAR_WAKES;
  raw_or(waiters, me);
  publishWait(kind, t);
  try {
    /** This CPU's wake-ups counted just before the last look that found the bit set; -1: none. */
    let wakesWhileSet = -1;
    for (let spins = 0; ; spins++) {
      let wakes = raw_load(varWakes);
      if (!test_bit(bit, state)) break;
      wakesWhileSet = wakes;
      plain_inc(this_cpu.base + C_HEARTBEAT);
      if (machine_stopping()) throw new MachineHalt();
      if (spins < spinsBeforeSleep()) {
        cpuRelaxInWait();
        continue;
      }
      wakes = raw_load(varWakes);
      const seq = raw_load(wake);
      if (!test_bit(bit, state)) break;
      wakesWhileSet = wakes;
      set_current(idle_task());
      serveWhileSleeping(seq);
      set_current(sleeper);
    }
    // Registered before the bit was seen set, so the clear that followed must wake this CPU: in
    // the kernel the waiter is on the wait queue from its first look, spinning or not.
    if (wakesWhileSet >= 0 && raw_load(varWakes) === wakesWhileSet)
      expectLateWake(
        wakesWhileSet,
        () =>
          `wait_var_event(&t->state) for tasklet ${t.name}: its ${bit === TASKLET_STATE_SCHED ? 'SCHED' : 'RUN'} bit cleared with no wake_up_var`,
      );
  } finally {
    raw_and(waiters, ~me);
    clearWait();
  }
}

/**
 * How long a wait that found what it waits for gives the wake-up that must follow: the
 * waker makes at most a decision or two between the event and its wake-up, so only the host
 * descheduling it can hold the wake-up back for long. Controlled, where the host cannot, a
 * shorter wait keeps the report ahead of the fuzz's 100 ms hang limit.
 */
const LATE_WAKE_MS = 200;
const CONTROLLED_LATE_WAKE_MS = 20;

/**
 * What the waiter waits for came true, and no wake-up came since it last saw it false. Here the
 * wait ends anyway, because it spins first and its sleeps are bounded (MAX_SLEEP_MS, next tick);
 * in the kernel the task, on the wait queue from its first look, would sleep on forever. So
 * unless the wake-up turns up late, it is a lost wake-up, and reported as the hang it would be.
 * `wakes`: this CPU's wake count before that last look; `what`: the wait and its event.
 */
function expectLateWake(wakes: number, what: () => string): void {
  const varWakes = this_cpu.base + C_VAR_WAKES;
  const wake = this_cpu.base + C_WAKE;
  const sleeper = current();
  const deadline = machineMs() + (under_control() ? CONTROLLED_LATE_WAKE_MS : LATE_WAKE_MS);
  while (raw_load(varWakes) === wakes) {
    if (machine_stopping()) throw new MachineHalt();
    if (machineMs() >= deadline) {
      printk(
        'err',
        `INFO: task ${sleeper.comm}:${sleeper.pid} would sleep forever in ${what()} (a lost wake-up)`,
      );
      return;
    }
    const seq = raw_load(wake);
    if (raw_load(varWakes) !== wakes) return;
    set_current(idle_task());
    serveWhileSleeping(seq);
    set_current(sleeper);
  }
}

/** What the CPU does while its task sleeps: interrupts, ksoftirqd, or nothing until woken. */
function serveWhileSleeping(seq: number): void {
  poll_local_timer();
  if (takeover_while_sleeping()) return;
  if (raw_load(this_cpu.base + C_IRQ_PENDING) !== 0) {
    do_IRQ();
    return;
  }
  const ksoftirqd = this_ksoftirqd();
  if (local_softirq_pending() !== 0 && ksoftirqd !== null) {
    set_current(ksoftirqd);
    local_irq_disable();
    if (local_softirq_pending() !== 0) handle_softirqs(true);
    local_irq_enable();
    return;
  }
  report_stranded_tasklets();
  cpu_sleep(this_cpu.base + C_WAKE, seq, next_tick_ms(), MAX_SLEEP_MS);
}

/**
 * wake_up_var on any object with a two-word waiter mask at `waiters` (tasklets, timers, work
 * items). The second word holds CPUs 32-63: with fewer CPUs one load decides (this runs at every
 * tasklet unlock).
 */
export function wake_up_waiters(waiters: number): void {
  const upper = plain_read(G_NR_CPUS) > 32 ? raw_load(waiters + 1) : 0;
  if ((raw_load(waiters) | upper) === 0) return;
  for (let word = 0; word < 2; word++) {
    let bits = raw_load(waiters + word);
    while (bits !== 0) {
      const bit = 31 - Math.clz32(bits);
      bits &= ~(1 << bit);
      const cpu = word * 32 + bit;
      raw_add(layout().cpu(cpu) + C_VAR_WAKES, 1);
      kick_cpu(cpu);
    }
  }
}

/**
 * A wait's part that only a waking path makes true (a run that finished, a callback that
 * returned), and the wait and that event in a hang report's words.
 */
export interface WakeExpected {
  woken(): boolean;
  what(): string;
}

/**
 * wait_var_event for objects other than tasklets: spins, then sleeps until `done()` (which
 * reads through the door) holds, registered in the waiter mask at `waiters` so that
 * wake_up_waiters kicks this CPU. `mayBlock` false (atomic context) makes it a pure spin. With
 * `expected`, a sleep that ends on its own to find `expected.woken()` true with no wake-up since
 * is a lost wake-up (expectLateWake). Only a wait that slept is judged here, where the tasklet
 * waits judge every look: the wider check is not yet trusted for work and timer waits.
 */
export function wait_until(
  waiters: number,
  done: () => boolean,
  kind: WaitKind,
  mayBlock: boolean,
  expected?: WakeExpected,
): void {
  if (done()) return;
  const base = this_cpu.base;
  plain_write(base + C_WAIT_TASKLET, 0);
  plain_write(base + C_WAIT_PID, current().pid);
  plain_write(base + C_WAIT_SINCE, jiffies());
  raw_store(base + C_WAIT_KIND, mayBlock ? kind : WaitKind.TaskletSpin);
  const cpu = this_cpu.id;
  const mine = waiters + (cpu >> 5);
  const me = 1 << (cpu & 31);
  const wake = base + C_WAKE;
  const sleeper = current();
  const varWakes = base + C_VAR_WAKES;
  if (mayBlock) raw_or(mine, me);
  try {
    /** The wake-ups counted before the last sleep that began with the wait not done; -1: none yet. */
    let wakesBeforeSleep = -1;
    for (let spins = 0; !done(); spins++) {
      plain_inc(base + C_HEARTBEAT);
      if (machine_stopping()) throw new MachineHalt();
      if (!mayBlock || spins < spinsBeforeSleep()) {
        cpuRelaxInWait();
        continue;
      }
      const wakes = raw_load(varWakes);
      const seq = raw_load(wake);
      if (done()) break;
      set_current(idle_task());
      serveWhileSleeping(seq);
      set_current(sleeper);
      wakesBeforeSleep = wakes;
    }
    if (
      expected !== undefined &&
      wakesBeforeSleep >= 0 &&
      raw_load(varWakes) === wakesBeforeSleep &&
      expected.woken()
    )
      expectLateWake(wakesBeforeSleep, expected.what);
  } finally {
    if (mayBlock) raw_and(mine, ~me);
    clearWait();
  }
}
