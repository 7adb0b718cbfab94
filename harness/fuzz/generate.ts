/**
 * fast-check arbitraries for fuzz programs. They generate raw programs freely and map them
 * through normalize(), so every generated program, and every shrink of one, is well-formed.
 */
import fc from 'fast-check';
import { bhEpisodeArb, irqBhArb, timerOpArb, workOpArb } from './bh-generate.ts';
import type { DelayPlan } from './injection.ts';
import { MAX_IRQ_AT, normalize } from './normalize.ts';
import {
  MAX_BUSY_US,
  MAX_DELAY_US,
  MAX_OPS_PER_THREAD,
  MAX_RESCHED,
  MAX_SECTION_OPS,
  MAX_TASKLETS,
  type Op,
  type Program,
  SPINNER_RESCHED,
  type TaskletSpec,
} from './program.ts';

function taskletArb(cpus: number): fc.Arbitrary<TaskletSpec> {
  return fc.record({
    mode: fc.constantFrom('shared-disable' as const, 'shared-kill' as const, 'private' as const),
    owner: fc.nat({ max: cpus - 1 }),
    resched: fc.oneof(
      { weight: 6, arbitrary: fc.nat({ max: MAX_RESCHED }) },
      { weight: 1, arbitrary: fc.constant(SPINNER_RESCHED) },
    ),
    reschedHi: fc.boolean(),
    busyUs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: MAX_BUSY_US })),
  });
}

function leafArb(cpus: number): fc.Arbitrary<Op> {
  const t = fc.nat({ max: MAX_TASKLETS - 1 });
  const cpu = fc.nat({ max: cpus - 1 });
  const ops = (...names: Extract<Op, { t: number }>['op'][]) =>
    fc.record({ op: fc.constantFrom(...names), t }) as fc.Arbitrary<Op>;
  return fc.oneof(
    { weight: 8, arbitrary: ops('schedule', 'hi_schedule') },
    { weight: 4, arbitrary: ops('disable', 'disable_nosync', 'disable_in_atomic') },
    { weight: 4, arbitrary: ops('enable') },
    { weight: 3, arbitrary: ops('kill', 'init') },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('irq' as const),
        cpu,
        t,
        hi: fc.boolean(),
        at: fc.integer({ min: 1, max: MAX_IRQ_AT }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('delay' as const),
        us: fc.integer({ min: 0, max: MAX_DELAY_US }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('hotplug' as const), cpu }) },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('orphan' as const), t, probe: t, hi: fc.boolean() }),
    },
    { weight: 3, arbitrary: workOpArb(cpus) },
    { weight: 2, arbitrary: timerOpArb(cpus) },
    { weight: 1, arbitrary: irqBhArb(cpus) },
  );
}

function opArb(cpus: number): fc.Arbitrary<Op> {
  const leaf = leafArb(cpus);
  const section = fc.record({
    op: fc.constantFrom('irqsave' as const, 'bh' as const),
    body: fc.array(leaf, { minLength: 1, maxLength: MAX_SECTION_OPS }),
  });
  return fc.oneof({ weight: 8, arbitrary: leaf }, { weight: 2, arbitrary: section });
}

/**
 * A FIFO episode, spelled in plain ops: some tasklets disabled, all of them scheduled on one
 * queue in one irqs-off section (so the queue holds them in that order), passes, then all
 * enabled in another section, so that one pass meets them all enabled after passes that had to
 * requeue the disabled ones. With a pacer the first one re-queues itself from its callback, so
 * each pass must put the disabled ones back behind it: a requeue to the head shows after any
 * number of passes, not only after an odd one. normalize() keeps what this CPU may do.
 */
function fifoEpisodeArb(): fc.Arbitrary<Op[]> {
  return fc
    .record({
      ts: fc.uniqueArray(fc.nat({ max: MAX_TASKLETS - 1 }), { minLength: 2, maxLength: 3 }),
      hi: fc.boolean(),
      disabled: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      us: fc.integer({ min: 0, max: MAX_DELAY_US }),
      pacer: fc.boolean(),
    })
    .map(({ ts, hi, disabled, us, pacer }): Op[] => {
      const held = ts.filter((_, k) => disabled[k] && !(pacer && k === 0));
      const op = hi ? ('hi_schedule' as const) : ('schedule' as const);
      const queued = ts.map((t, k): Op => (pacer && k === 0 ? { op: 'pace', t, hi } : { op, t }));
      return [
        ...held.map((t): Op => ({ op: 'disable', t })),
        { op: 'irqsave', body: queued },
        // The bh section's end runs the passes then pending: the held entries are walked and
        // requeued before they are enabled.
        { op: 'bh', body: [{ op: 'delay', us: 0 }] },
        { op: 'delay', us },
        ...(held.length > 0
          ? [{ op: 'irqsave' as const, body: held.map((t): Op => ({ op: 'enable', t })) }]
          : []),
      ];
    });
}

/** The ops a race point lines up, one per CPU, on one tasklet (normalize() drops what a CPU may not do). */
const RACE_OPS = [
  'disable',
  'disable_nosync',
  'disable_in_atomic',
  'enable',
  'kill',
  'schedule',
  'hi_schedule',
] as const;

interface Race {
  t: number;
  ops: (typeof RACE_OPS)[number][];
  /** Where each CPU's thread takes its part. */
  at: number[];
}

function raceArb(cpus: number): fc.Arbitrary<Race> {
  return fc.record({
    t: fc.nat({ max: MAX_TASKLETS - 1 }),
    ops: fc.array(fc.constantFrom(...RACE_OPS), { minLength: cpus, maxLength: cpus }),
    at: fc.array(fc.nat({ max: MAX_OPS_PER_THREAD }), { minLength: cpus, maxLength: cpus }),
  });
}

/**
 * One race point in every thread, each followed by that CPU's op on the same tasklet, so that
 * two disables, a disable and an enable, a kill and a schedule of one tasklet start together
 * (the interactions that independent threads seldom line up). An enable takes its disable
 * just before the point; each part sits early enough to survive normalize()'s truncation.
 */
function withRace(threads: Op[][], race: Race): Op[][] {
  return threads.map((ops, cpu) => {
    const name = race.ops[cpu] ?? 'schedule';
    const lead: Op[] = name === 'enable' ? [{ op: 'disable', t: race.t }] : [];
    const at = Math.min(race.at[cpu] ?? 0, ops.length, MAX_OPS_PER_THREAD - 3);
    return [...ops.slice(0, at), ...lead, { op: 'race' }, { op: name, t: race.t }, ...ops.slice(at)];
  });
}

/** Well-formed programs for `cpus` CPUs. A third of them have a race point. */
export function programArb(cpus: number): fc.Arbitrary<Program> {
  const step = fc.oneof(
    { weight: 12, arbitrary: opArb(cpus).map((op) => [op]) },
    { weight: 1, arbitrary: fifoEpisodeArb() },
    { weight: 1, arbitrary: bhEpisodeArb(cpus) },
  );
  const thread = fc.array(step, { maxLength: MAX_OPS_PER_THREAD }).map((steps) => steps.flat());
  return fc
    .record({
      tasklets: fc.array(taskletArb(cpus), { minLength: 1, maxLength: MAX_TASKLETS }),
      threads: fc.array(thread, { minLength: cpus, maxLength: cpus }),
      // Last, so that the fields before it are drawn as they were before race points existed.
      race: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: raceArb(cpus) }),
    })
    .map(({ tasklets, threads, race }) =>
      normalize({ cpus, tasklets, threads: race === null || cpus < 2 ? threads : withRace(threads, race) }),
    );
}

/** The delay plan of a program seed: often none, sometimes rare long delays, sometimes many short ones. */
export function delayPlanFor(seed: number): DelayPlan {
  const [permille, maxUs] = [
    [0, 0],
    [2, 100],
    [10, 30],
    [50, 10],
  ][(seed >>> 3) % 4];
  return { seed, permille, maxUs };
}
