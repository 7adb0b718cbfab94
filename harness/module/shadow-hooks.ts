/**
 * The module harness's shadow, kept at the API boundary of a module it did not write: sinks on
 * the kernel's tasklet tracepoints (schedule, entry/exit, disable/enable and their returns,
 * kill and its return), installed on every CPU. They judge the mechanism's guarantees for
 * the module's tasklets whatever their callbacks do, and never read SCHED or RUN to decide
 * whether SCHED or RUN did their job:
 *
 * - every effective schedule (the call that set SCHED) owes exactly one run, and every run
 *   pays for the oldest one owed: a run nobody owed is G10 (after a kill) or G11, a debt
 *   left at the drain is G4 (judged by the controller);
 * - a run starts on the CPU whose schedule it pays for, unless that CPU went offline since
 *   (the takeover moved its queue): G5;
 * - at entry and exit, the oracle library's run checks: G1, G6, G13, G14;
 * - no run after a waiting disable returned, until the disable count the harness sees drops
 *   to 0 (G8); the disable returned with no callback running (G9);
 * - tasklet_kill returned only after every schedule made before it was called had run (G10).
 */
import { report, smp_processor_id } from 'tasklet-rt';
import { attach_tracepoint } from '../../kernel/trace.ts';
import { on_trace_entry } from '../oracles/call-checks.ts';
import { exit_jiffies, offlineCount, run_context } from '../oracles/cpu-context.ts';
import { type Violation, violation } from '../oracles/guarantees.ts';
import { on_run_end, on_run_start } from '../oracles/run-checks.ts';
import { EventKind, F_INSIDE, F_SCHED_SEQ, recent_events, record_event, tw } from '../oracles/shadow.ts';
import {
  M_UNTRACKED,
  MAX_TRACKED,
  PLACE_RING,
  X_DISABLES,
  X_DSTATE,
  X_KILLED,
  X_PLACE,
  X_POPPED,
  X_PUSHED,
  X_RUN_POP,
  X_SEEN,
  xw,
} from './layout.ts';

export interface ShadowWords {
  control: Int32Array;
  sh: Int32Array;
  xs: Int32Array;
}

/** Reports a violation to the controller, with the tasklet's recent events. */
function fail(words: ShadowWords, v: Violation | null): void {
  if (v === null) return;
  report('violation', { ...v, events: v.tasklet >= 0 ? recent_events(words.sh, v.tasklet) : [] });
}

/** Installs the shadow's sinks on this CPU (call it once per CPU, from cpu_init). */
export function install_shadow_hooks(words: ShadowWords): void {
  const { control, sh, xs } = words;
  /** Tasklets the shadow follows; others are counted and left alone. */
  const tracked = (id: number): boolean => {
    if (id >= 0 && id < MAX_TRACKED) {
      if (Atomics.load(xs, xw(id, X_SEEN)) === 0) Atomics.store(xs, xw(id, X_SEEN), 1);
      return true;
    }
    Atomics.add(control, M_UNTRACKED, 1);
    return false;
  };
  // CPU-local: what a disable or kill in progress on this CPU saw at its entry (nesting: irqs).
  const disableEpoch = new Map<number, number>();
  const killStarts = new Map<number, number[]>();

  attach_tracepoint('tasklet_schedule', (id, _hi, effective) => {
    if (!tracked(id)) return;
    const cpu = smp_processor_id();
    if (!effective) return;
    // Effective schedules are serialised by SCHED itself: only one caller writes at a time.
    const n = Atomics.load(xs, xw(id, X_PUSHED));
    Atomics.store(xs, xw(id, X_PLACE + (n % PLACE_RING)), (cpu + 1) | (offlineCount(cpu) << 8));
    Atomics.store(xs, xw(id, X_PUSHED), n + 1);
    Atomics.store(sh, tw(id, F_SCHED_SEQ), n + 1);
    record_event(sh, id, EventKind.Schedule, cpu);
  });

  attach_tracepoint('tasklet_entry', (id) => {
    if (!tracked(id)) return;
    const cpu = smp_processor_id();
    on_trace_entry(sh, id);
    record_event(sh, id, EventKind.RunStart, cpu);
    fail(words, pay_for_run(xs, id, cpu));
    if ((Atomics.load(xs, xw(id, X_DSTATE)) & 1) !== 0) {
      fail(
        words,
        violation(
          'disabled',
          id,
          [cpu],
          `callback ran on CPU${cpu} after tasklet_disable returned and before tasklet_enable`,
        ),
      );
    }
    fail(words, on_run_start(sh, id, run_context(sh, id, cpu)));
  });

  attach_tracepoint('tasklet_exit', (id) => {
    if (!tracked(id)) return;
    const cpu = smp_processor_id();
    record_event(sh, id, EventKind.RunEnd, cpu);
    fail(words, on_run_end(sh, id, cpu, exit_jiffies()));
  });

  attach_tracepoint('tasklet_disable', (id) => {
    if (!tracked(id)) return;
    Atomics.add(xs, xw(id, X_DISABLES), 1);
    disableEpoch.set(id, Atomics.load(xs, xw(id, X_DSTATE)) >> 1);
    record_event(sh, id, EventKind.Disable, smp_processor_id());
  });

  attach_tracepoint('tasklet_disable_return', (id) => {
    if (!tracked(id)) return;
    const cpu = smp_processor_id();
    const epoch = disableEpoch.get(id) ?? -1;
    // Only if no enable took the count to 0 meanwhile (else a run may start legitimately).
    if (Atomics.compareExchange(xs, xw(id, X_DSTATE), epoch << 1, (epoch << 1) | 1) >> 1 !== epoch) return;
    const inside = Atomics.load(sh, tw(id, F_INSIDE));
    if (inside !== 0) {
      fail(
        words,
        violation(
          'disable-waits',
          id,
          [cpu, inside - 1],
          `tasklet_disable returned on CPU${cpu} while the callback ran on CPU${inside - 1}`,
        ),
      );
    }
  });

  attach_tracepoint('tasklet_enable', (id) => {
    if (!tracked(id)) return;
    record_event(sh, id, EventKind.Enable, smp_processor_id());
    // The tracepoint fires before the count drops: the harness's count never exceeds t->count.
    if (Atomics.sub(xs, xw(id, X_DISABLES), 1) - 1 > 0) return;
    for (;;) {
      const state = Atomics.load(xs, xw(id, X_DSTATE));
      if (Atomics.compareExchange(xs, xw(id, X_DSTATE), state, ((state >> 1) + 1) << 1) === state) return;
    }
  });

  attach_tracepoint('tasklet_kill', (id) => {
    if (!tracked(id)) return;
    record_event(sh, id, EventKind.Kill, smp_processor_id());
    const starts = killStarts.get(id) ?? [];
    starts.push(Atomics.load(xs, xw(id, X_PUSHED)));
    killStarts.set(id, starts);
  });

  attach_tracepoint('tasklet_kill_return', (id) => {
    if (!tracked(id)) return;
    const cpu = smp_processor_id();
    const owedAtEntry = killStarts.get(id)?.pop() ?? 0;
    const pushed = Atomics.load(xs, xw(id, X_PUSHED));
    const popped = Atomics.load(xs, xw(id, X_POPPED));
    const inside = Atomics.load(sh, tw(id, F_INSIDE));
    if (popped < owedAtEntry) {
      fail(
        words,
        violation(
          'kill',
          id,
          [cpu],
          `tasklet_kill returned on CPU${cpu} before schedule #${popped + 1}, made before the kill, had run`,
        ),
      );
    } else if (inside !== 0 && Atomics.load(xs, xw(id, X_RUN_POP)) <= owedAtEntry) {
      fail(
        words,
        violation(
          'kill',
          id,
          [cpu, inside - 1],
          `tasklet_kill returned on CPU${cpu} while the callback ran on CPU${inside - 1}`,
        ),
      );
    }
    Atomics.store(xs, xw(id, X_KILLED), pushed + 1);
  });
}

/** At a run's entry: the oldest effective schedule it pays for, and where that one queued it. */
function pay_for_run(xs: Int32Array, id: number, cpu: number): Violation | null {
  const popped = Atomics.load(xs, xw(id, X_POPPED));
  const pushed = Atomics.load(xs, xw(id, X_PUSHED));
  if (popped >= pushed) {
    if (Atomics.load(xs, xw(id, X_KILLED)) === pushed + 1)
      return violation(
        'kill',
        id,
        [cpu],
        `callback ran on CPU${cpu} after tasklet_kill returned, with no tasklet_schedule since`,
      );
    return violation(
      'structure',
      id,
      [cpu],
      `callback ran on CPU${cpu} without a tasklet_schedule that set SCHED for it`,
    );
  }
  Atomics.store(xs, xw(id, X_POPPED), popped + 1);
  Atomics.store(xs, xw(id, X_RUN_POP), popped + 1);
  const place = Atomics.load(xs, xw(id, X_PLACE + (popped % PLACE_RING)));
  const owner = (place & 0xff) - 1;
  // A takeover moves a dead CPU's queue: the run may be anywhere once its CPU went offline.
  if (owner !== cpu && offlineCount(owner) === place >>> 8)
    return violation(
      'locality',
      id,
      [owner, cpu],
      `scheduled on CPU${owner} (SCHED set there) but ran on CPU${cpu}`,
    );
  return null;
}
