/**
 * What a program implies on its own, beyond the general oracles: exact run counts where the
 * program determines them, and HI-before-TASKLET order where a section queues both kinds.
 */
import { DISABLES, flatten, isSection, type Op, type Program } from './program.ts';

/**
 * Runs a tasklet must have made by the end, or null where timing decides (coalescing). Known
 * when a private tasklet never reschedules itself, no interrupt schedules it, and every schedule
 * but the last is followed by a kill (or init, which kills) before the next one: each kill waits
 * for the pending run, so no two schedules can coalesce.
 */
export function expectedRuns(program: Program, t: number): number | null {
  const spec = program.tasklets[t];
  if (spec.mode !== 'private' || reschedules(program, t)) return null;
  const all = program.threads.flatMap(flatten);
  if (all.some((op) => op.op === 'irq' && op.t === t)) return null;
  // An orphaning forgets a schedule when it takes, and does nothing when the tasklet is busy.
  if (all.some((op) => op.op === 'orphan' && (op.t === t || op.probe === t))) return null;
  let schedules = 0;
  let pending = false;
  for (const op of flatten(program.threads[spec.owner])) {
    if (!('t' in op) || op.t !== t || op.op === 'irq' || op.op === 'orphan') continue;
    if (op.op === 'schedule' || op.op === 'hi_schedule') {
      if (pending) return null;
      pending = true;
      schedules++;
    } else if (op.op === 'kill' || op.op === 'init') {
      pending = false;
    }
  }
  return schedules;
}

/** Whether tasklet `t`'s callback ever re-queues it: by its spec, or as a pacer. */
function reschedules(program: Program, t: number): boolean {
  return (
    program.tasklets[t].resched > 0 ||
    program.threads.flatMap(flatten).some((op) => op.op === 'pace' && op.t === t)
  );
}

/** The priorities a tasklet is ever scheduled with in the program (ops, interrupts, itself). */
function priorities(program: Program, t: number): Set<'hi' | 'normal'> {
  const seen = new Set<'hi' | 'normal'>();
  for (const op of program.threads.flatMap(flatten)) {
    if (op.op === 'schedule' && op.t === t) seen.add('normal');
    if (op.op === 'hi_schedule' && op.t === t) seen.add('hi');
    if (op.op === 'irq' && op.t === t) seen.add(op.hi ? 'hi' : 'normal');
    if (op.op === 'orphan' && (op.t === t || op.probe === t)) seen.add(op.hi ? 'hi' : 'normal');
    if (op.op === 'pace' && op.t === t) seen.add(op.hi ? 'hi' : 'normal');
  }
  const spec = program.tasklets[t];
  if (spec.resched > 0) seen.add(spec.reschedHi ? 'hi' : 'normal');
  return seen;
}

/** [hi tasklet, normal tasklet]: the first run of the second after the section follows one of the first. */
export type OrderPair = [number, number];

/**
 * Order checks per CPU and top-level op index. A section on CPU c that schedules a normal
 * tasklet n and a HI tasklet h, both private to c, neither held disabled at its end, each only
 * ever scheduled with its one priority: no softirq pass can run on c inside the section, and
 * the first pass after it runs HI before TASKLET (unless the CPU disabled the HI tasklet before
 * that pass: the oracle looks). Hotplug would move queues, so not then.
 */
export function orderChecks(program: Program): Map<number, OrderPair[]>[] {
  const hasHotplug = program.threads.flatMap(flatten).some((op) => op.op === 'hotplug');
  return program.threads.map((ops, cpu) => {
    const checks = new Map<number, OrderPair[]>();
    if (hasHotplug) return checks;
    const held = new Map<number, number>();
    const hold = (op: Op): void => {
      if (!('t' in op) || op.op === 'irq' || op.op === 'orphan' || op.op === 'pace') return;
      if (DISABLES.includes(op.op)) held.set(op.t, (held.get(op.t) ?? 0) + 1);
      if (op.op === 'enable') held.set(op.t, (held.get(op.t) ?? 0) - 1);
    };
    const eligible = (t: number, priority: 'hi' | 'normal'): boolean => {
      const spec = program.tasklets[t];
      const p = priorities(program, t);
      return spec.mode === 'private' && spec.owner === cpu && p.size === 1 && p.has(priority) && !held.get(t);
    };
    ops.forEach((op, index) => {
      hold(op);
      if (!isSection(op)) return;
      for (const inner of op.body) hold(inner);
      const his = new Set(
        op.body.flatMap((o) => (o.op === 'hi_schedule' && eligible(o.t, 'hi') ? [o.t] : [])),
      );
      const normals = new Set(
        op.body.flatMap((o) => (o.op === 'schedule' && eligible(o.t, 'normal') ? [o.t] : [])),
      );
      const pairs: OrderPair[] = [];
      const h = [...his][0];
      if (h !== undefined) for (const n of normals) pairs.push([h, n]);
      if (pairs.length > 0) checks.set(index, pairs);
    });
    return checks;
  });
}

/**
 * The one CPU that ever schedules tasklet `t` (its ops, the interrupts aimed at it; a
 * self-reschedule stays on the CPU that runs it), or null if several do. Such a tasklet must
 * run on that CPU (guarantee 5), hotplug aside (the locality oracle allows for the move).
 */
export function soleScheduler(program: Program, t: number): number | null {
  // A self-rescheduling tasklet moved by hotplug goes on rescheduling itself where it landed.
  const hotplug = program.threads.flatMap(flatten).some((op) => op.op === 'hotplug');
  if (hotplug && reschedules(program, t)) return null;
  const cpus = new Set<number>();
  program.threads.forEach((ops, cpu) => {
    for (const op of flatten(ops)) {
      if ((op.op === 'schedule' || op.op === 'hi_schedule') && op.t === t) cpus.add(cpu);
      if (op.op === 'irq' && op.t === t) cpus.add(op.cpu);
      if (op.op === 'orphan' && (op.t === t || op.probe === t)) cpus.add(cpu);
      if (op.op === 'pace' && op.t === t) cpus.add(cpu);
    }
  });
  return cpus.size === 1 ? [...cpus][0] : null;
}

/**
 * The tasklets the FIFO oracle may place: private ones that no interrupt op schedules. An
 * interrupt aimed at a private tasklet can queue it (on either vector) behind the harness's back,
 * so whether a schedule in a section queued it is not known.
 */
export function fifoTasklets(program: Program): number[] {
  const all = program.threads.flatMap(flatten);
  return program.tasklets.flatMap((spec, t) =>
    spec.mode === 'private' && !all.some((op) => op.op === 'irq' && op.t === t) ? [t] : [],
  );
}
