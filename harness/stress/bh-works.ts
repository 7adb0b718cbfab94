/**
 * The BH workqueue half of the stress workload (docs/semantics.md §10, W1-W5): work items on
 * system_bh_wq, system_bh_highpri_wq and an alloc_workqueue(WQ_BH) queue, queued, cancelled,
 * disabled and flushed by racing ops from process, softirq and hard-irq context on every CPU;
 * exclusive ops hold one item (or a few) and provoke one guarantee: cancel/disable_work_sync
 * while it runs (W2), flush_work right after queueing (W3), queueing while disabled (W4), and a
 * batch queued behind a tasklet of the same vector in one irqs-off section (W5: queue order,
 * the queueing CPU, BH work before the vector's tasklets). Every successful queueing must end in
 * exactly one run or one cancel (checked at the drain).
 */
import {
  alloc_workqueue,
  cancel_work,
  cancel_work_sync,
  cpu_online,
  disable_work,
  disable_work_sync,
  enable_work,
  flush_work,
  from_work,
  HZ,
  in_hardirq,
  in_serving_softirq,
  jiffies,
  local_irq_restore,
  local_irq_save,
  nr_cpu_ids,
  queue_work,
  queue_work_on,
  smp_processor_id,
  system_bh_highpri_wq,
  system_bh_wq,
  type TaskBody,
  type TaskletStruct,
  tasklet_from_id,
  tasklet_hi_schedule,
  tasklet_schedule,
  udelay,
  type WorkqueueStruct,
  type WorkStruct,
  WQ_BH,
  work_from_id,
} from 'tasklet-rt';
import { enter_callback } from '../oracles/bh-checks.ts';
import { invocationCount, offlineCount } from '../oracles/cpu-context.ts';
import { violation } from '../oracles/guarantees.ts';
import {
  bh,
  check_placement,
  covered,
  expect_placement,
  fail,
  racing,
  releaseExclusive,
  rng,
  running,
  slotNow,
  slow_allowed,
  take_budget,
  tryExclusive,
  wait_until,
} from './bh-common.ts';
import {
  B_FIRST_PROBE,
  B_FIRST_WORK,
  B_NR_WORKS,
  B_ORDER_PROGRESS,
  B_POOL_COUNT,
  B_POOL_INVOCATION,
  B_PROBE_JIFFIES,
  B_PROBE_LEFT,
  B_PROBE_OFFLINE,
  B_PROBE_OPEN,
  B_PROBE_SEEN,
  NOT_JUDGED,
  R,
  wr,
} from './bh-shadow.ts';
import { other_online } from './bh-timers.ts';
import { Slot } from './coverage.ts';

const WAIT_MS = 200;
/** bh_worker's bound per call (kernel/workqueue.ts): past it, the vector's tasklets may come first. */
const POOL_BATCH = 10;
/** A slow work function busy-waits, so an exclusive op can catch it running: a tick and a half, or 1 ms (flush). */
const slowUs = (): number => Math.ceil(1_500_000 / HZ());
const SLOW_US = 1000;

/** Work item i goes to one queue only: 0 system_bh_wq, 1 system_bh_highpri_wq, 2 our WQ_BH queue. */
const stress_wq = alloc_workqueue('stress_bh', WQ_BH);
const queues: WorkqueueStruct[] = [system_bh_wq, system_bh_highpri_wq, stress_wq];
const wqOf = (i: number): WorkqueueStruct => queues[i % 3];
const isHi = (i: number): boolean => i % 3 === 1;

const handles: WorkStruct[] = [];
export function work(i: number): WorkStruct {
  let w = handles[i];
  if (w === undefined) {
    w = work_from_id(Atomics.load(bh, B_FIRST_WORK) + i);
    handles[i] = w;
  }
  return w;
}
const nWorks = (): number => Atomics.load(bh, B_NR_WORKS);
const name = (i: number): string => `work stress-work${i} (${wqOf(i).name})`;

/** queue_work (target -1) or queue_work_on; a queueing that returned true is counted. */
export function queue(i: number, target: number): boolean {
  const w = work(i);
  const cpu = smp_processor_id();
  const base = target >= 0 && cpu_online(target) ? target : cpu;
  Atomics.store(bh, wr(i, R.LastCpu), base + 1);
  Atomics.store(bh, wr(i, R.LastOffline), offlineCount(base));
  Atomics.add(bh, wr(i, R.ArmIn), 1);
  const ok = covered(target >= 0 ? 'queue_work_on' : 'queue_work', () =>
    target >= 0 ? queue_work_on(target, wqOf(i), w) : queue_work(wqOf(i), w),
  );
  if (ok) Atomics.add(bh, wr(i, R.Arms), 1);
  Atomics.sub(bh, wr(i, R.ArmIn), 1);
  return ok;
}

type CancelKind = 'cancel_work' | 'cancel_work_sync' | 'disable_work' | 'disable_work_sync';
const cancels: Record<CancelKind, (w: WorkStruct) => boolean> = {
  cancel_work,
  cancel_work_sync,
  disable_work,
  disable_work_sync,
};

/** A cancel or disable; one that took a pending queueing away accounts for it. */
export function cancel(i: number, kind: CancelKind): boolean {
  const was = covered(kind, () => cancels[kind](work(i)));
  if (was) Atomics.add(bh, wr(i, R.Covered), 1);
  return was;
}

function enable(i: number): boolean {
  return covered('enable_work', () => enable_work(work(i)));
}

export function bh_work_fn(w: WorkStruct): void {
  const i = from_work(w);
  const cpu = smp_processor_id();
  fail(enter_callback(bh, wr(i, 0), cpu, 'work-reentrant', `${name(i)}: started`));
  // Queue calls in progress before the successful ones: a queueing that let this run start has
  // either returned (counted) or is still in progress.
  const inProgress = Atomics.load(bh, wr(i, R.ArmIn));
  const queued = Atomics.load(bh, wr(i, R.Arms));
  const runs = Atomics.add(bh, wr(i, R.Runs), 1) + 1;
  if (runs > queued + inProgress)
    fail(
      violation(
        'work-runs',
        -1,
        [cpu],
        `${name(i)}: run #${runs} but it was queued successfully only ${queued} time(s) (at most ${inProgress} more in progress): a queueing ran twice`,
      ),
    );
  if (!in_serving_softirq() || in_hardirq())
    fail(violation('work-runs', -1, [cpu], `${name(i)}: ran outside BH (softirq) context`));
  if (Atomics.load(bh, wr(i, R.Disabled)) !== 0)
    fail(
      violation(
        'work-disabled',
        -1,
        [cpu],
        `${name(i)}: ran while disabled (disable_work_sync had returned and nothing enabled it)`,
      ),
    );
  fail(check_placement(bh, wr(i, 0), cpu, 'work-runs', name(i), 'queued'));
  Atomics.store(bh, wr(i, R.RunCpu), cpu + 1);
  check_order(i, cpu);
  note_probe(i, cpu);
  covered('work_run', () => {
    const slow = Atomics.load(bh, wr(i, R.Slow));
    if (slow !== 0) udelay(slow);
    else if (rng.chance(30)) udelay(rng.below(25));
    racing(wr(i, 0), () => {
      // A work item queued from its own function is not pending while it runs: it runs again.
      if (running() && take_budget(wr(i, 0))) queue(i, -1);
    });
  });
  if (running() && rng.chance(15)) racing_work_op(rng.below(nWorks()));
  Atomics.add(bh, wr(i, R.Ends), 1);
  Atomics.compareExchange(bh, wr(i, R.Inside), cpu + 1, 0);
}

/** An order episode's item must start right after the one queued before it (W5). */
function check_order(i: number, cpu: number): void {
  const word = Atomics.exchange(bh, wr(i, R.Order), 0);
  if (word === 0) return;
  const owner = (word >>> 16) - 1;
  const pos = word & 0xffff;
  const prev = Atomics.exchange(bh, B_ORDER_PROGRESS + owner, pos);
  if (prev === pos - 1) return;
  fail(
    violation(
      'work-order',
      -1,
      owner === cpu ? [cpu] : [owner, cpu],
      `${name(i)}: ran on CPU${cpu} as #${pos} of the work items CPU${owner} queued in one irqs-off section, ${prev >= pos ? `after #${prev}` : `but #${prev + 1} has not run yet`}: not in queueing order`,
    ),
  );
}

/** A probe episode's item has run; the pool's batch in this softirq invocation is counted. */
function note_probe(i: number, cpu: number): void {
  const slot = cpu * 2 + (isHi(i) ? 1 : 0);
  const inv = invocationCount(cpu);
  if (Atomics.exchange(bh, B_POOL_INVOCATION + slot, inv) !== inv) Atomics.store(bh, B_POOL_COUNT + slot, 0);
  Atomics.add(bh, B_POOL_COUNT + slot, 1);
  const probe = Atomics.exchange(bh, wr(i, R.Probe), 0) - 1;
  if (probe >= 0 && Atomics.load(bh, wr(i, R.ProbeEpisode)) === Atomics.load(bh, B_PROBE_OPEN + probe))
    Atomics.sub(bh, B_PROBE_LEFT + probe, 1);
}

/**
 * The probe tasklet of slot cpu * 2 + hi: notes how many BH work items queued with it had not
 * started yet. The episode judges it once all of them ran (on its CPU: an item that ran elsewhere
 * says nothing about this CPU's pass).
 */
export function bh_probe_fn(t: TaskletStruct): void {
  const slot = t.id - Atomics.load(bh, B_FIRST_PROBE);
  const cpu = smp_processor_id();
  const episode = Atomics.exchange(bh, B_PROBE_OPEN + slot, 0);
  if (episode === 0) return;
  const owner = slot >> 1;
  // Not judged after an unplug of the owner, or where bh_worker's bounds may have cut the batch.
  const bounded =
    (jiffies() | 0) !== Atomics.load(bh, B_PROBE_JIFFIES + slot) ||
    (Atomics.load(bh, B_POOL_INVOCATION + slot) === invocationCount(cpu) &&
      Atomics.load(bh, B_POOL_COUNT + slot) >= POOL_BATCH);
  const judged =
    cpu === owner && offlineCount(owner) === Atomics.load(bh, B_PROBE_OFFLINE + slot) && !bounded;
  Atomics.store(bh, B_PROBE_SEEN + slot, judged ? Atomics.load(bh, B_PROBE_LEFT + slot) : NOT_JUDGED);
}

/** A racing op on work item i unless an exclusive op holds it; waits (the _sync forms, flush) in process context only. */
export function racing_work_op(i: number): void {
  racing(wr(i, 0), () => {
    if (!running()) return;
    const inTask = slotNow() === Slot.Process;
    const pick = rng.below(inTask ? 12 : 9);
    if (pick < 3) {
      if (rng.chance(30)) Atomics.store(bh, wr(i, R.Budget), 1 + rng.below(3));
      queue(i, -1);
    } else if (pick < 6) queue(i, rng.below(nr_cpu_ids()));
    else if (pick < 7) cancel(i, 'cancel_work');
    else if (pick < 9) {
      cancel(i, 'disable_work');
      if (rng.chance(50)) queue(i, -1);
      enable(i);
    } else if (pick < 10) cancel(i, 'cancel_work_sync');
    else if (pick < 11) covered('flush_work', () => flush_work(work(i)));
    else {
      cancel(i, 'disable_work_sync');
      enable(i);
    }
  });
}

/** An exclusive op on one work item (or a batch): idle before (cancel_work_sync), maybe pending after. */
export function* work_sync_op(cpu: number): TaskBody<void> {
  let flavour = rng.below(5);
  if ((flavour === 0 || flavour === 4) && !slow_allowed()) flavour = 1 + rng.below(3);
  if (flavour === 3) {
    yield* order_episode(cpu);
    return;
  }
  const i = rng.below(nWorks());
  const base = wr(i, 0);
  if (!(yield* tryExclusive(base, cpu))) return;
  cancel(i, 'cancel_work_sync');
  if (flavour === 0) yield* cancel_while_running(i, cpu);
  else if (flavour === 1) yield* flush_after_queue(i, cpu);
  else if (flavour === 4) yield* queue_while_running(i, cpu);
  else {
    // queue_work_on: it runs on that CPU (or its heir after an unplug).
    const target = rng.below(nr_cpu_ids());
    const r0 = Atomics.load(bh, wr(i, R.Runs));
    expect_placement(wr(i, 0), target);
    queue(i, target);
    yield* wait_until(() => Atomics.load(bh, wr(i, R.Runs)) > r0, WAIT_MS);
    Atomics.store(bh, wr(i, R.ExpectCpu), 0);
  }
  releaseExclusive(base);
}

/** W2 and W4: cancel or disable (_sync) while it runs slowly somewhere; then it stays idle. */
function* cancel_while_running(i: number, cpu: number): TaskBody<void> {
  const runs = (): number => Atomics.load(bh, wr(i, R.Runs));
  const r0 = runs();
  Atomics.store(bh, wr(i, R.Slow), slowUs());
  queue(i, rng.chance(70) ? rng.below(nr_cpu_ids()) : -1);
  yield* wait_until(() => Atomics.load(bh, wr(i, R.Inside)) !== 0 || runs() > r0, WAIT_MS);
  const disable = rng.chance(50);
  cancel(i, disable ? 'disable_work_sync' : 'cancel_work_sync');
  Atomics.store(bh, wr(i, R.Slow), 0);
  const inside = Atomics.load(bh, wr(i, R.Inside));
  if (inside !== 0)
    fail(
      violation(
        'work-cancel-sync',
        -1,
        [cpu, inside - 1],
        `${name(i)}: ${disable ? 'disable' : 'cancel'}_work_sync returned on CPU${cpu} while it was running on CPU${inside - 1}`,
      ),
    );
  const after = runs();
  if (disable) {
    Atomics.store(bh, wr(i, R.Disabled), 1);
    if (queue(i, rng.chance(50) ? -1 : rng.below(nr_cpu_ids())))
      fail(violation('work-disabled', -1, [cpu], `${name(i)}: queueing a disabled work item returned true`));
  }
  for (let k = 0; k < 4; k++) yield;
  udelay(rng.below(50));
  if (runs() !== after)
    fail(
      violation(
        disable ? 'work-disabled' : 'work-cancel-sync',
        -1,
        [cpu],
        `${name(i)}: ran after ${disable ? 'disable' : 'cancel'}_work_sync returned`,
      ),
    );
  if (!disable) return;
  Atomics.store(bh, wr(i, R.Disabled), 0);
  enable(i);
  for (let k = 0; k < 4; k++) yield;
  if (runs() !== after)
    fail(
      violation(
        'work-disabled',
        -1,
        [cpu],
        `${name(i)}: ran after enable_work though it was queued only while disabled (that queueing must be forgotten)`,
      ),
    );
}

/** W1: queued here while it runs (slowly) on another CPU: it must run there again, after, not here meanwhile. */
function* queue_while_running(i: number, cpu: number): TaskBody<void> {
  const target = other_online(cpu);
  if (target < 0) return;
  const runs = (): number => Atomics.load(bh, wr(i, R.Runs));
  const r0 = runs();
  Atomics.store(bh, wr(i, R.Slow), slowUs());
  queue(i, target);
  if (yield* wait_until(() => Atomics.load(bh, wr(i, R.Inside)) === target + 1, WAIT_MS)) {
    queue(i, -1);
    yield* wait_until(() => runs() > r0 + 1, WAIT_MS);
  }
  Atomics.store(bh, wr(i, R.Slow), 0);
}

/** W3: flush_work right after queueing returns only once that run has finished. */
function* flush_after_queue(i: number, cpu: number): TaskBody<void> {
  const ends = Atomics.load(bh, wr(i, R.Ends));
  Atomics.store(bh, wr(i, R.Slow), rng.chance(50) ? SLOW_US : 0);
  if (queue(i, rng.chance(50) ? rng.below(nr_cpu_ids()) : -1)) {
    covered('flush_work', () => flush_work(work(i)));
    const after = Atomics.load(bh, wr(i, R.Ends));
    if (after <= ends)
      fail(
        violation(
          'work-flush',
          -1,
          [cpu],
          `${name(i)}: flush_work returned on CPU${cpu} before the run it was queued for had finished`,
        ),
      );
  }
  Atomics.store(bh, wr(i, R.Slow), 0);
  yield;
}

/** This CPU's probe episodes so far (only this CPU opens episodes on its slots). */
let episodes = 0;

/**
 * W5: a probe tasklet, then 2-4 idle work items of the same vector, in one irqs-off section on
 * this CPU: the items start in queueing order, here (or on the heir), and before the probe.
 */
function* order_episode(cpu: number): TaskBody<void> {
  const hi = rng.chance(50);
  const candidates: number[] = [];
  for (let i = 0; i < nWorks(); i++) if (isHi(i) === hi) candidates.push(i);
  const picked: number[] = [];
  const want = 2 + rng.below(3);
  while (picked.length < want && candidates.length > 0) {
    const i = candidates.splice(rng.below(candidates.length), 1)[0];
    if (yield* tryExclusive(wr(i, 0), cpu)) picked.push(i);
  }
  if (picked.length >= 2) {
    for (const i of picked) cancel(i, 'cancel_work_sync');
    const slot = cpu * 2 + (hi ? 1 : 0);
    const probe: TaskletStruct = tasklet_from_id(Atomics.load(bh, B_FIRST_PROBE) + slot);
    // The previous episode's probe has run (or it timed out and is closed now).
    Atomics.store(bh, B_PROBE_OPEN + slot, 0);
    episodes = (episodes + 1) & 0x3fffffff || 1;
    const episode = episodes;
    Atomics.store(bh, B_ORDER_PROGRESS + cpu, 0);
    const before = picked.map((i) => Atomics.load(bh, wr(i, R.Runs)));
    picked.forEach((i, k) => {
      Atomics.store(bh, wr(i, R.Order), ((cpu + 1) << 16) | (k + 1));
      Atomics.store(bh, wr(i, R.ProbeEpisode), episode);
      Atomics.store(bh, wr(i, R.Probe), slot + 1);
    });
    const flags = local_irq_save();
    Atomics.store(bh, B_PROBE_LEFT + slot, picked.length);
    Atomics.store(bh, B_PROBE_OFFLINE + slot, offlineCount(cpu));
    Atomics.store(bh, B_PROBE_JIFFIES + slot, jiffies() | 0);
    Atomics.store(bh, B_PROBE_SEEN + slot, -1);
    Atomics.store(bh, B_PROBE_OPEN + slot, episode);
    if (hi) tasklet_hi_schedule(probe);
    else tasklet_schedule(probe);
    for (const i of picked) queue(i, -1);
    local_irq_restore(flags);
    const ran = yield* wait_until(
      () => picked.every((i, k) => Atomics.load(bh, wr(i, R.Runs)) > before[k]),
      WAIT_MS,
    );
    yield* wait_until(() => Atomics.load(bh, B_PROBE_SEEN + slot) !== -1, WAIT_MS);
    const left = Atomics.load(bh, B_PROBE_SEEN + slot);
    const here = picked.every((i) => Atomics.load(bh, wr(i, R.RunCpu)) === cpu + 1);
    if (ran && here && left > 0 && left !== NOT_JUDGED)
      fail(
        violation(
          'work-order',
          -1,
          [cpu],
          `the ${hi ? 'HI' : 'TASKLET'} vector ran a tasklet scheduled on CPU${cpu} before ${left} of the ${picked.length} BH work items queued after it in one irqs-off section (BH work runs first)`,
        ),
      );
    for (const i of picked) {
      Atomics.store(bh, wr(i, R.Order), 0);
      Atomics.store(bh, wr(i, R.Probe), 0);
    }
  }
  for (const i of picked) releaseExclusive(wr(i, 0));
}
