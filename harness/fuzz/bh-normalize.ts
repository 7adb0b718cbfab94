/**
 * normalize()'s rules for the timer and work ops (bh-layout.ts's fixed set), per CPU thread:
 * - ops that wait for a callback (flush_work, cancel_work_sync, disable_work_sync,
 *   del_timer_sync, add_timer_on) stand outside sections;
 * - every disable_work* is matched by a later enable_work on the same CPU (missing ones are
 *   appended), and an enable_work needs one;
 * - a private timer is touched only by its owner CPU (and add_timer_on only on one: it must not
 *   be pending, and only its owner arms it), its callback never re-arms it; interrupts touch
 *   shared timers only;
 * - expiries, targets and budgets are clamped into range.
 */
import {
  IRQ_BH_CALLS,
  MAX_ON_TICKS,
  MAX_REARM,
  MAX_TICKS,
  NR_SHARED_TIMERS,
  NR_TIMERS,
  NR_WORKS,
  timerOwner,
} from './bh-layout.ts';
import { BH_SLEEPING, type BhOp, MAX_IRQ_AT, type Op } from './program.ts';

const clamp = (n: number, min: number, max: number): number =>
  Math.min(max, Math.max(min, Number.isFinite(n) ? Math.trunc(n) : min));
const index = (n: number, count: number): number => clamp(n, 0, 1 << 30) % count;

export class BhNormalizer {
  /** Disables this CPU holds, per work item. */
  private readonly held = new Map<number, number>();

  constructor(
    private readonly cpu: number,
    private readonly cpus: number,
  ) {}

  reset(): void {
    this.held.clear();
  }

  /** The enables a thread still owes at its end. */
  owedEnables(): Op[] {
    return [...this.held]
      .reverse()
      .flatMap(([w, n]) => Array.from({ length: n }, (): Op => ({ op: 'enable_work', w })));
  }

  op(op: BhOp, inSection: boolean): Op | null {
    if (inSection && BH_SLEEPING.includes(op.op)) return null;
    const cpu = (n: number): number => clamp(n, 0, this.cpus - 1);
    if (op.op === 'irq_bh') {
      const call = IRQ_BH_CALLS.includes(op.call) ? op.call : 'queue_work';
      const n = index(op.n, call === 'queue_work' ? NR_WORKS : NR_SHARED_TIMERS);
      const target = cpu(op.cpu);
      return {
        op: 'irq_bh',
        cpu: target,
        call,
        n,
        at: target === this.cpu ? clamp(op.at, 1, MAX_IRQ_AT) : 1,
      };
    }
    if ('w' in op) return this.workOp(op, index(op.w, NR_WORKS), cpu);
    const x = index(op.x, NR_TIMERS);
    const owner = timerOwner(x);
    if (owner >= 0 && owner !== this.cpu) return null;
    switch (op.op) {
      case 'mod_timer':
        return {
          op: 'mod_timer',
          x,
          ticks: clamp(op.ticks, 0, MAX_TICKS),
          rearm: owner >= 0 ? 0 : clamp(op.rearm, 0, MAX_REARM),
        };
      case 'mod_timer_pending':
        return { op: 'mod_timer_pending', x, ticks: clamp(op.ticks, 0, MAX_TICKS) };
      case 'add_timer_on':
        return owner < 0
          ? null
          : { op: 'add_timer_on', x, cpu: cpu(op.cpu), ticks: clamp(op.ticks, 0, MAX_ON_TICKS) };
      default:
        return { op: op.op, x };
    }
  }

  private workOp(op: Extract<BhOp, { w: number }>, w: number, cpu: (n: number) => number): Op | null {
    const held = this.held.get(w) ?? 0;
    switch (op.op) {
      case 'queue_work_on':
        return { op: 'queue_work_on', w, cpu: cpu(op.cpu) };
      case 'disable_work':
      case 'disable_work_sync':
        this.held.set(w, held + 1);
        break;
      case 'enable_work':
        if (held === 0) return null;
        if (held === 1) this.held.delete(w);
        else this.held.set(w, held - 1);
    }
    return { op: op.op as Exclude<typeof op.op, 'queue_work_on'>, w };
  }
}
