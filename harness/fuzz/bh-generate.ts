/**
 * fast-check arbitraries for the timer and work ops (generate.ts mixes them in at a modest
 * weight): single ops, interrupt ops, and short episodes that set up what a guarantee is about
 * (queue then flush, queue while disabled, cancel a queued item, move a pending timer, a timer
 * armed on a CPU that then goes offline). normalize() keeps what a thread may do.
 */
import fc from 'fast-check';
import { IRQ_BH_CALLS, MAX_ON_TICKS, MAX_REARM, MAX_TICKS, NR_TIMERS, NR_WORKS } from './bh-layout.ts';
import { MAX_DELAY_US, MAX_IRQ_AT, type Op } from './program.ts';

const w = fc.nat({ max: NR_WORKS - 1 });
const x = fc.nat({ max: NR_TIMERS - 1 });
const ticks = fc.integer({ min: 0, max: MAX_TICKS });

export function workOpArb(cpus: number): fc.Arbitrary<Op> {
  const cpu = fc.nat({ max: cpus - 1 });
  const plain = (...names: Exclude<Extract<Op, { w: number }>['op'], 'queue_work_on'>[]) =>
    fc.record({ op: fc.constantFrom(...names), w }) as fc.Arbitrary<Op>;
  return fc.oneof(
    { weight: 4, arbitrary: plain('queue_work') },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('queue_work_on' as const), w, cpu }) },
    { weight: 2, arbitrary: plain('flush_work', 'cancel_work_sync') },
    { weight: 2, arbitrary: plain('disable_work', 'disable_work_sync') },
    { weight: 2, arbitrary: plain('enable_work') },
  );
}

export function timerOpArb(cpus: number): fc.Arbitrary<Op> {
  const cpu = fc.nat({ max: cpus - 1 });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('mod_timer' as const),
        x,
        ticks,
        rearm: fc.nat({ max: MAX_REARM }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('mod_timer_pending' as const), x, ticks }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('add_timer_on' as const),
        x,
        cpu,
        ticks: fc.integer({ min: 0, max: MAX_ON_TICKS }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constantFrom('del_timer' as const, 'del_timer_sync' as const), x }),
    },
  );
}

export function irqBhArb(cpus: number): fc.Arbitrary<Op> {
  return fc.record({
    op: fc.constant('irq_bh' as const),
    cpu: fc.nat({ max: cpus - 1 }),
    call: fc.constantFrom(...IRQ_BH_CALLS),
    n: fc.nat({ max: NR_WORKS - 1 }),
    at: fc.integer({ min: 1, max: MAX_IRQ_AT }),
  });
}

/** Up to three delays: a wait of up to 1.2 ms (free-running: the other CPU's callback starts meanwhile). */
const waitArb = fc
  .array(fc.integer({ min: 0, max: MAX_DELAY_US }), { maxLength: 3 })
  .map((us) => us.map((n): Op => ({ op: 'delay', us: n })));

/**
 * The slow item started on another CPU (queue_work_on, or its interrupt's mod_timer), a wait,
 * then an op that races with its callback there: queueing it (W1), cancelling or disabling it
 * (W2), moving it (T1), deleting it (T3).
 */
function raceArb(cpus: number): fc.Arbitrary<Op[]> {
  const cpu = fc.nat({ max: cpus - 1 });
  const slowWork = 2;
  const workRace = fc.constantFrom<Op[]>(
    [{ op: 'queue_work', w: slowWork }],
    [{ op: 'cancel_work_sync', w: slowWork }],
    [
      { op: 'disable_work_sync', w: slowWork },
      { op: 'enable_work', w: slowWork },
    ],
  );
  const timerRace = fc.constantFrom<Op[]>(
    [{ op: 'mod_timer', x: 0, ticks: 0, rearm: 0 }],
    [{ op: 'del_timer_sync', x: 0 }],
  );
  return fc.oneof(
    fc
      .tuple(cpu, waitArb, workRace)
      .map(([c, wait, race]): Op[] => [{ op: 'queue_work_on', w: slowWork, cpu: c }, ...wait, ...race]),
    fc
      .tuple(cpu, waitArb, timerRace)
      .map(([c, wait, race]): Op[] => [
        { op: 'irq_bh', cpu: c, call: 'mod_timer', n: 0, at: 1 },
        ...wait,
        ...race,
      ]),
    // x2 is CPU0's: armed on another CPU, deleted while it runs there (T3).
    fc
      .tuple(cpu, waitArb)
      .map(([c, wait]): Op[] => [
        { op: 'add_timer_on', x: 2, cpu: c, ticks: 0 },
        ...wait,
        { op: 'del_timer_sync', x: 2 },
      ]),
  );
}

/** A few ops on one item that provoke one guarantee. */
export function bhEpisodeArb(cpus: number): fc.Arbitrary<Op[]> {
  const cpu = fc.nat({ max: cpus - 1 });
  return fc.oneof(
    { arbitrary: raceArb(cpus), weight: 3 },
    w.map((w): Op[] => [
      { op: 'queue_work', w },
      { op: 'flush_work', w },
    ]),
    fc.record({ w, cpu, sync: fc.boolean() }).map(({ w, cpu, sync }): Op[] => [
      { op: sync ? 'disable_work_sync' : 'disable_work', w },
      { op: 'queue_work_on', w, cpu },
      { op: 'enable_work', w },
    ]),
    fc.record({ w, cpu }).map(({ w, cpu }): Op[] => [
      { op: 'queue_work_on', w, cpu },
      { op: 'cancel_work_sync', w },
    ]),
    fc.record({ x, a: ticks, b: ticks }).map(({ x, a, b }): Op[] => [
      { op: 'del_timer_sync', x },
      { op: 'mod_timer', x, ticks: a, rearm: 0 },
      { op: 'mod_timer', x, ticks: b, rearm: 0 },
    ]),
    fc.record({ x, cpu, t: fc.integer({ min: 2, max: MAX_ON_TICKS }) }).map(({ x, cpu, t }): Op[] => [
      { op: 'add_timer_on', x, cpu, ticks: t },
      { op: 'hotplug', cpu },
    ]),
  );
}
