/**
 * Spinlocks in shared memory: spinlock_t, DEFINE_SPINLOCK and spin_lock_init, and the lock and
 * unlock families (_bh, _irq, _irqsave/_irqrestore, trylock), with CONFIG_DEBUG_SPINLOCK's checks
 * ("BUG: spinlock bad magic", "wrong owner", "recursion") and lockdep (kernel/lockdep.ts) on every
 * acquisition. The lock word is taken with test_and_set_bit and waited for with test_bit and
 * cpu_relax: every access is an interrupt point and a controlled-mode decision, like the other
 * waits. Locks are static: modules declare them at top level, in the same order on every CPU.
 */
import {
  clear_bit,
  cpu_relax,
  layout,
  raw_load,
  raw_store,
  test_and_set_bit,
  test_bit,
} from '../shm/door.ts';
import { L_LOCKED, L_MAGIC, L_OWNER_CPU, L_OWNER_PID, MAX_SPINLOCKS, SPINLOCK_MAGIC } from '../shm/layout.ts';
import { local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save } from './irqflags.ts';
import { lock_acquire, lock_release, setLockdepNames } from './lockdep.ts';
import { this_cpu } from './percpu.ts';
import { preempt_disable, preempt_enable } from './preempt.ts';
import { caller_frames, printk } from './printk.ts';
import { current } from './sched.ts';
import { local_bh_disable, local_bh_enable } from './softirq.ts';

interface Declared {
  name: string;
  initialised: boolean;
}

const declared: Declared[] = [];

setLockdepNames(
  (cls) => declared[cls]?.name ?? `lock#${cls}`,
  () => current(),
);

/** A spinlock: a slot of the shared lock table, and a lock class of its own for lockdep. */
export class spinlock_t {
  readonly id: number;

  /** A lock as a member of a driver's data: not usable until spin_lock_init. */
  constructor(readonly name: string) {
    if (declared.length >= MAX_SPINLOCKS)
      throw new RangeError(`spinlock_t ${name}: modules declare more than ${MAX_SPINLOCKS} spinlocks`);
    this.id = declared.length;
    declared.push({ name, initialised: false });
  }

  /** Word index of this lock's words (layout.ts L_*). */
  get addr(): number {
    return layout().spinlock(this.id);
  }
}

/** DEFINE_SPINLOCK(name): a static lock, initialised (at bring-up, before any CPU runs code). */
export function DEFINE_SPINLOCK(name: string): spinlock_t {
  const lock = new spinlock_t(name);
  declared[lock.id].initialised = true;
  return lock;
}

/** CPU0 at bring-up: the DEFINE_SPINLOCK locks get their magic. */
export function write_static_spinlocks(): void {
  declared.forEach((d, id) => {
    if (d.initialised) raw_store(layout().spinlock(id) + L_MAGIC, SPINLOCK_MAGIC);
  });
}

export function spin_lock_init(lock: spinlock_t): void {
  raw_store(lock.addr + L_LOCKED, 0);
  raw_store(lock.addr + L_OWNER_CPU, 0);
  raw_store(lock.addr + L_OWNER_PID, 0);
  raw_store(lock.addr + L_MAGIC, SPINLOCK_MAGIC);
}

/** spin_bug: the kernel's report, then carries on as the kernel does. */
function spin_bug(lock: spinlock_t, msg: string): void {
  const task = current();
  const ownerCpu = raw_load(lock.addr + L_OWNER_CPU) - 1;
  const ownerPid = raw_load(lock.addr + L_OWNER_PID);
  const magic = (raw_load(lock.addr + L_MAGIC) >>> 0).toString(16).padStart(8, '0');
  const trace = caller_frames(['printk', 'spinlock']).slice(0, 8);
  printk(
    'err',
    [
      `BUG: spinlock ${msg} on CPU#${this_cpu.id}, ${task.comm}/${task.pid}`,
      ` lock: ${lock.name}, .magic: ${magic}, .owner: ${ownerCpu < 0 ? '<none>/-1' : `?/${ownerPid}`}, .owner_cpu: ${ownerCpu}`,
      'Call Trace:',
      ...trace.map((f) => ` ${f.func} (${f.where})`),
    ].join('\n'),
  );
}

function debug_spin_lock_before(lock: spinlock_t): void {
  if (raw_load(lock.addr + L_MAGIC) !== SPINLOCK_MAGIC) spin_bug(lock, 'bad magic');
  const ownerCpu = raw_load(lock.addr + L_OWNER_CPU) - 1;
  if (ownerCpu >= 0 && raw_load(lock.addr + L_OWNER_PID) === current().pid && ownerCpu === this_cpu.id)
    spin_bug(lock, 'recursion');
  else if (ownerCpu === this_cpu.id) spin_bug(lock, 'cpu recursion');
}

function debug_spin_lock_after(lock: spinlock_t): void {
  raw_store(lock.addr + L_OWNER_CPU, this_cpu.id + 1);
  raw_store(lock.addr + L_OWNER_PID, current().pid);
}

function debug_spin_unlock(lock: spinlock_t): void {
  if (raw_load(lock.addr + L_MAGIC) !== SPINLOCK_MAGIC) spin_bug(lock, 'bad magic');
  if (raw_load(lock.addr + L_LOCKED) === 0) spin_bug(lock, 'already unlocked');
  const ownerCpu = raw_load(lock.addr + L_OWNER_CPU) - 1;
  if (raw_load(lock.addr + L_OWNER_PID) !== current().pid) spin_bug(lock, 'wrong owner');
  else if (ownerCpu !== this_cpu.id) spin_bug(lock, 'wrong CPU');
  raw_store(lock.addr + L_OWNER_CPU, 0);
  raw_store(lock.addr + L_OWNER_PID, 0);
}

/** do_raw_spin_lock: test-and-set, and while it is held a read-only spin (test_bit, cpu_relax). */
function do_raw_spin_lock(lock: spinlock_t): void {
  debug_spin_lock_before(lock);
  while (test_and_set_bit(L_LOCKED, lock.addr)) {
    while (test_bit(L_LOCKED, lock.addr)) cpu_relax();
  }
  debug_spin_lock_after(lock);
}

function do_raw_spin_unlock(lock: spinlock_t): void {
  debug_spin_unlock(lock);
  clear_bit(L_LOCKED, lock.addr);
}

export function spin_lock(lock: spinlock_t): void {
  preempt_disable();
  lock_acquire(lock.id);
  do_raw_spin_lock(lock);
}

export function spin_unlock(lock: spinlock_t): void {
  lock_release(lock.id);
  do_raw_spin_unlock(lock);
  preempt_enable();
}

export function spin_lock_bh(lock: spinlock_t): void {
  local_bh_disable();
  spin_lock(lock);
}

export function spin_unlock_bh(lock: spinlock_t): void {
  spin_unlock(lock);
  local_bh_enable();
}

export function spin_lock_irq(lock: spinlock_t): void {
  local_irq_disable();
  spin_lock(lock);
}

export function spin_unlock_irq(lock: spinlock_t): void {
  spin_unlock(lock);
  local_irq_enable();
}

/** Returns the flags to hand to spin_unlock_irqrestore. */
export function spin_lock_irqsave(lock: spinlock_t): number {
  const flags = local_irq_save();
  spin_lock(lock);
  return flags;
}

export function spin_unlock_irqrestore(lock: spinlock_t, flags: number): void {
  spin_unlock(lock);
  local_irq_restore(flags);
}

/** Takes the lock only if it is free (no magic check here, as in the kernel: unlock checks). */
export function spin_trylock(lock: spinlock_t): boolean {
  preempt_disable();
  if (test_and_set_bit(L_LOCKED, lock.addr)) {
    preempt_enable();
    return false;
  }
  debug_spin_lock_after(lock);
  lock_acquire(lock.id, true);
  return true;
}

export function spin_is_locked(lock: spinlock_t): boolean {
  return test_bit(L_LOCKED, lock.addr);
}
