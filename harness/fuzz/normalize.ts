/**
 * Makes any raw program well-formed, so that it terminates on a correct machine and every
 * oracle applies: fast-check generates and shrinks raw programs, and this map keeps each
 * candidate valid. The rules:
 * - a private tasklet is touched only by its owner CPU (interrupts aimed at it go there);
 * - nobody kills a tasklet that may be disabled (a kill of a disabled, scheduled tasklet
 *   never returns), and only private tasklets are re-initialised;
 * - every disable is matched by a later enable on the same CPU (missing ones are appended);
 *   a private tasklet is not killed or re-initialised while its CPU holds it disabled;
 * - sleeping ops (disable, kill, init) never run inside irq-save or bh-disable sections,
 *   and sections do not nest;
 * - an orphan op (G12 on purpose) takes two private tasklets of its CPU, neither held
 *   disabled, the first aimed at by no interrupt, and stands outside sections;
 * - a thread has at most one race point, outside sections.
 * Self-rescheduling budgets are finite, so a kill never waits forever. The timer and work ops
 * have their own rules (bh-normalize.ts).
 */
import { BhNormalizer } from './bh-normalize.ts';
import {
  DISABLES,
  flatten,
  isBhOp,
  isSection,
  MAX_BUSY_US,
  MAX_DELAY_US,
  MAX_IRQ_AT,
  MAX_OPS_PER_THREAD,
  MAX_SECTION_OPS,
  MAX_TASKLETS,
  type Op,
  type Program,
  SLEEPING,
  SPINNER_RESCHED,
  type TaskletOpName,
  type TaskletSpec,
} from './program.ts';

/** Longest busy delay inside a section (interrupts or bottom halves are off meanwhile). */
export const MAX_SECTION_DELAY_US = 50;
export { MAX_IRQ_AT } from './program.ts';

const clamp = (n: number, min: number, max: number): number =>
  Math.min(max, Math.max(min, Number.isFinite(n) ? Math.trunc(n) : min));

function normalizeSpec(spec: TaskletSpec, cpus: number): TaskletSpec {
  return {
    mode: spec.mode,
    owner: spec.mode === 'private' ? clamp(spec.owner, 0, cpus - 1) % cpus : 0,
    resched: clamp(spec.resched, 0, SPINNER_RESCHED),
    reschedHi: spec.resched > 0 && spec.reschedHi,
    busyUs: clamp(spec.busyUs, 0, MAX_BUSY_US),
  };
}

class ThreadNormalizer {
  /** Disables this CPU holds, per tasklet. */
  private readonly held = new Map<number, number>();
  /** The one race point is kept. */
  private raced = false;
  private readonly bh: BhNormalizer;

  constructor(
    private readonly cpu: number,
    private readonly cpus: number,
    private readonly tasklets: TaskletSpec[],
  ) {
    this.bh = new BhNormalizer(cpu, cpus);
  }

  run(ops: Op[]): Op[] {
    const out = this.ops(ops, false).slice(0, MAX_OPS_PER_THREAD);
    this.held.clear();
    this.raced = false;
    this.bh.reset();
    // Re-walk the truncated list so the appended enables match what is really held.
    const kept = this.ops(out, false);
    for (const [t, n] of [...this.held].reverse()) for (let k = 0; k < n; k++) kept.push({ op: 'enable', t });
    kept.push(...this.bh.owedEnables());
    return kept;
  }

  private ops(ops: Op[], inSection: boolean): Op[] {
    const out: Op[] = [];
    for (const op of ops) {
      const kept = this.op(op, inSection);
      if (kept !== null) out.push(kept);
    }
    return out;
  }

  private op(op: Op, inSection: boolean): Op | null {
    if (isSection(op)) {
      if (inSection) return null;
      const body = this.ops(op.body.slice(0, MAX_SECTION_OPS), true);
      return body.length === 0 ? null : { op: op.op, body };
    }
    if (isBhOp(op)) return this.bh.op(op, inSection);
    switch (op.op) {
      case 'irq': {
        const t = op.t % this.tasklets.length;
        const spec = this.tasklets[t];
        const target = spec.mode === 'private' ? spec.owner : clamp(op.cpu, 0, this.cpus - 1);
        const at = target === this.cpu ? clamp(op.at, 1, MAX_IRQ_AT) : 1;
        return { op: 'irq', cpu: target, t, hi: op.hi === true, at };
      }
      case 'delay':
        return { op: 'delay', us: clamp(op.us, 0, inSection ? MAX_SECTION_DELAY_US : MAX_DELAY_US) };
      case 'race':
        if (inSection || this.raced) return null;
        this.raced = true;
        return { op: 'race' };
      case 'hotplug':
        return this.cpus < 2 ? null : { op: 'hotplug', cpu: clamp(op.cpu, 0, this.cpus - 1) };
      case 'pace':
        return this.pace(op.t % this.tasklets.length, op.hi === true);
      case 'orphan':
        return inSection
          ? null
          : this.orphan(op.t % this.tasklets.length, op.probe % this.tasklets.length, op.hi);
      default:
        return this.taskletOp(op.op, op.t % this.tasklets.length, inSection);
    }
  }

  /** Both private to this CPU and distinct, neither held disabled (a re-init resets the count; a disabled probe never runs). */
  private orphan(t: number, probe: number, hi: boolean): Op | null {
    const mine = (x: number): boolean =>
      this.tasklets[x].mode === 'private' && this.tasklets[x].owner === this.cpu;
    const held = (x: number): boolean => (this.held.get(x) ?? 0) > 0;
    if (t === probe || !mine(t) || !mine(probe) || held(t) || held(probe)) return null;
    return { op: 'orphan', t, probe, hi: hi === true };
  }

  /** A pacer is private to this CPU (its self-reschedules stay here); schedule's rules otherwise. */
  private pace(t: number, hi: boolean): Op | null {
    const spec = this.tasklets[t];
    return spec.mode === 'private' && spec.owner === this.cpu ? { op: 'pace', t, hi } : null;
  }

  private taskletOp(name: TaskletOpName, t: number, inSection: boolean): Op | null {
    const spec = this.tasklets[t];
    if (spec.mode === 'private' && spec.owner !== this.cpu) return null;
    if (inSection && SLEEPING.includes(name)) return null;
    const held = this.held.get(t) ?? 0;
    if (DISABLES.includes(name)) {
      if (spec.mode === 'shared-kill') return null;
      this.held.set(t, held + 1);
    } else if (name === 'enable') {
      if (held === 0) return null;
      if (held === 1) this.held.delete(t);
      else this.held.set(t, held - 1);
    } else if (name === 'kill') {
      if (spec.mode === 'shared-disable' || held > 0) return null;
    } else if (name === 'init') {
      if (spec.mode !== 'private' || held > 0) return null;
    }
    return { op: name, t };
  }
}

/** The well-formed program closest to `raw` (the identity on well-formed programs). */
export function normalize(raw: Program): Program {
  const cpus = clamp(raw.cpus, 1, 64);
  const specs = raw.tasklets.slice(0, MAX_TASKLETS).map((s) => normalizeSpec(s, cpus));
  const tasklets =
    specs.length > 0
      ? specs
      : [normalizeSpec({ mode: 'shared-disable', owner: 0, resched: 0, reschedHi: false, busyUs: 0 }, cpus)];
  const threads: Op[][] = [];
  for (let cpu = 0; cpu < cpus; cpu++)
    threads.push(new ThreadNormalizer(cpu, cpus, tasklets).run(raw.threads[cpu] ?? []));
  // An interrupt could queue an orphaned tasklet a second time behind its entry without SCHED.
  const aimed = new Set(threads.flatMap(flatten).flatMap((op) => (op.op === 'irq' ? [op.t] : [])));
  const kept = threads.map((ops) => ops.filter((op) => op.op !== 'orphan' || !aimed.has(op.t)));
  return { cpus, tasklets, threads: kept };
}
