/**
 * The fuzzer: generated programs are well-formed (checked here independently of normalize),
 * what a program implies, shards, repro files, shrinking and replay on a known mutant, a short
 * clean campaign, and the two commands' bad usage. Nothing here asserts on timing.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../cli/errors.ts';
import { registerFuzz } from '../cli/fuzz.ts';
import { SCHEDULE_RULES } from '../control/block.ts';
import { type CampaignResult, runCampaign } from '../harness/fuzz/campaign.ts';
import { Coverage, overlappingPairs } from '../harness/fuzz/coverage.ts';
import { FuzzMachine } from '../harness/fuzz/executor.ts';
import { expectedRuns, orderChecks, soleScheduler } from '../harness/fuzz/expect.ts';
import { programArb } from '../harness/fuzz/generate.ts';
import { normalize } from '../harness/fuzz/normalize.ts';
import {
  type BhOp,
  DISABLES,
  flatten,
  isBhOp,
  isSection,
  type Op,
  opCount,
  type Program,
  SLEEPING,
} from '../harness/fuzz/program.ts';
import { renderProgram } from '../harness/fuzz/render.ts';
import { replay } from '../harness/fuzz/replay.ts';
import { buildRepro, parseRepro, REPRO_VERSION, type ReproFile } from '../harness/fuzz/repro.ts';
import { reproduce } from '../harness/fuzz/reproduce.ts';
import { parseShard, programSeed, shardRange } from '../harness/fuzz/shard.ts';
import { MODULE_REPRO_FORMAT, MODULE_REPRO_VERSION, parseModuleRepro } from '../harness/module/repro.ts';

/** The timer and work rules, restated: x2 and x3 belong to CPU0 and CPU1, waits stay out of sections. */
function bhProblems(op: BhOp, cpu: number, inSection: boolean, held: Map<number, number>): string[] {
  const out: string[] = [];
  const waits = ['flush_work', 'cancel_work_sync', 'disable_work_sync', 'del_timer_sync', 'add_timer_on'];
  if (inSection && waits.includes(op.op)) out.push(`CPU${cpu}: ${op.op} inside a section`);
  if (op.op === 'irq_bh') {
    if (op.call !== 'queue_work' && op.n >= 2) out.push(`irq ${op.call} of private timer x${op.n}`);
    return out;
  }
  if ('x' in op) {
    if (op.x >= 2 && op.x - 2 !== cpu) out.push(`CPU${cpu} touches private timer x${op.x}`);
    if (op.op === 'add_timer_on' && op.x < 2) out.push(`add_timer_on of shared timer x${op.x}`);
    if (op.op === 'mod_timer' && op.x >= 2 && op.rearm > 0) out.push(`private timer x${op.x} re-arms itself`);
    return out;
  }
  const n = held.get(op.w) ?? 0;
  if (op.op === 'disable_work' || op.op === 'disable_work_sync') held.set(op.w, n + 1);
  if (op.op === 'enable_work') {
    if (n === 0) out.push(`CPU${cpu}: enable_work of w${op.w} without a disable`);
    held.set(op.w, n - 1);
  }
  return out;
}

/** The well-formedness rules, restated independently of normalize(): the problems found. */
function problems(p: Program): string[] {
  const out: string[] = [];
  p.threads.forEach((ops, cpu) => {
    const held = new Map<number, number>();
    const heldWorks = new Map<number, number>();
    let races = 0;
    const visit = (op: Op, inSection: boolean): void => {
      if (isBhOp(op)) return void out.push(...bhProblems(op, cpu, inSection, heldWorks));
      if (isSection(op)) {
        if (inSection) out.push(`CPU${cpu}: nested section`);
        if (op.body.length === 0) out.push(`CPU${cpu}: empty section`);
        for (const inner of op.body) visit(inner, true);
        return;
      }
      if (op.op === 'delay' || op.op === 'hotplug') return;
      if (op.op === 'race') {
        if (inSection) out.push(`CPU${cpu}: race point inside a section`);
        if (++races > 1) out.push(`CPU${cpu}: more than one race point`);
        return;
      }
      const spec = p.tasklets[op.t];
      if (spec === undefined) return void out.push(`CPU${cpu}: no tasklet t${op.t}`);
      if (op.op === 'irq') {
        if (spec.mode === 'private' && op.cpu !== spec.owner)
          out.push(`irq schedules private t${op.t} elsewhere`);
        return;
      }
      if (op.op === 'pace') {
        if (spec.mode !== 'private' || spec.owner !== cpu) out.push(`CPU${cpu}: pacer t${op.t} not its own`);
        return;
      }
      if (op.op === 'orphan') {
        const mine = (x: number): boolean => p.tasklets[x].mode === 'private' && p.tasklets[x].owner === cpu;
        if (inSection) out.push(`CPU${cpu}: orphan inside a section`);
        if (op.t === op.probe || !mine(op.t) || !mine(op.probe))
          out.push(`CPU${cpu}: bad orphan of t${op.t}`);
        if ((held.get(op.t) ?? 0) > 0 || (held.get(op.probe) ?? 0) > 0)
          out.push(`CPU${cpu}: orphan with t${op.t} or its probe disabled`);
        if (p.threads.flatMap(flatten).some((o) => o.op === 'irq' && o.t === op.t))
          out.push(`CPU${cpu}: orphan of t${op.t}, which an interrupt schedules`);
        return;
      }
      if (spec.mode === 'private' && spec.owner !== cpu) out.push(`CPU${cpu} touches private t${op.t}`);
      if (inSection && SLEEPING.includes(op.op)) out.push(`CPU${cpu}: ${op.op} inside a section`);
      const n = held.get(op.t) ?? 0;
      if (DISABLES.includes(op.op)) {
        if (spec.mode === 'shared-kill') out.push(`disable of killable t${op.t}`);
        held.set(op.t, n + 1);
      }
      if (op.op === 'enable') {
        if (n === 0) out.push(`CPU${cpu}: enable of t${op.t} without a disable`);
        held.set(op.t, n - 1);
      }
      if ((op.op === 'kill' || op.op === 'init') && spec.mode === 'shared-disable')
        out.push(`kill of t${op.t}`);
      if (op.op === 'init' && spec.mode !== 'private') out.push(`init of shared t${op.t}`);
      if ((op.op === 'kill' || op.op === 'init') && n > 0) out.push(`kill of t${op.t} while held disabled`);
    };
    for (const op of ops) visit(op, false);
    for (const [t, n] of held) if (n !== 0) out.push(`CPU${cpu} ends with t${t} disabled ${n} times`);
    for (const [w, n] of heldWorks) if (n !== 0) out.push(`CPU${cpu} ends with w${w} disabled ${n} times`);
  });
  return out;
}

describe('generation', () => {
  it('generates well-formed programs, and normalize leaves them unchanged', () => {
    for (const cpus of [1, 2, 3]) {
      fc.assert(
        fc.property(programArb(cpus), (p) => {
          expect(problems(p)).toEqual([]);
          expect(p.threads).toHaveLength(cpus);
          expect(normalize(p)).toEqual(p);
        }),
        { numRuns: 300, seed: 7 },
      );
    }
  });

  it('repairs raw programs: drops what could hang, appends missing enables', () => {
    const raw: Program = {
      cpus: 2,
      tasklets: [
        { mode: 'shared-disable', owner: 0, resched: 0, reschedHi: false, busyUs: 0 },
        { mode: 'private', owner: 1, resched: 0, reschedHi: false, busyUs: 0 },
      ],
      threads: [
        [
          { op: 'disable', t: 0 },
          { op: 'kill', t: 0 }, // may be disabled: dropped
          { op: 'schedule', t: 1 }, // private to CPU1: dropped
          {
            op: 'bh',
            body: [
              { op: 'disable', t: 0 },
              { op: 'schedule', t: 0 },
            ],
          }, // sleeping disable dropped
        ],
        [
          { op: 'enable', t: 1 },
          { op: 'disable_nosync', t: 1 },
          { op: 'init', t: 1 },
        ],
      ],
    };
    const p = normalize(raw);
    expect(problems(p)).toEqual([]);
    expect(p.threads[0]).toEqual([
      { op: 'disable', t: 0 },
      { op: 'bh', body: [{ op: 'schedule', t: 0 }] },
      { op: 'enable', t: 0 },
    ]);
    expect(p.threads[1]).toEqual([
      { op: 'disable_nosync', t: 1 },
      { op: 'enable', t: 1 },
    ]);
  });

  it('renders one numbered column per CPU', () => {
    const [p] = fc.sample(programArb(2), { seed: 5, numRuns: 1 });
    const text = renderProgram(p);
    expect(text).toMatch(/#\s+CPU0\s+CPU1/);
    expect(text).toMatch(/^\s+1\s+\S/m);
  });
});

describe('what a program implies', () => {
  const spec = (mode: 'private' | 'shared-disable' | 'shared-kill', owner = 0, resched = 0) => ({
    mode,
    owner,
    resched,
    reschedHi: false,
    busyUs: 0,
  });

  it('knows exact run counts only where kills separate the schedules', () => {
    const p: Program = {
      cpus: 2,
      tasklets: [spec('private'), spec('private'), spec('private', 0, 1)],
      threads: [
        [
          { op: 'schedule', t: 0 },
          { op: 'kill', t: 0 },
          { op: 'schedule', t: 0 },
          { op: 'schedule', t: 1 },
          { op: 'schedule', t: 1 },
          { op: 'schedule', t: 2 },
        ],
        [],
      ],
    };
    expect(expectedRuns(p, 0)).toBe(2);
    expect(expectedRuns(p, 1)).toBeNull(); // two schedules may coalesce
    expect(expectedRuns(p, 2)).toBeNull(); // reschedules itself
  });

  it('checks HI-before-TASKLET order only for a section of one CPU with pure priorities', () => {
    const p: Program = {
      cpus: 2,
      tasklets: [spec('private'), spec('private'), spec('shared-disable')],
      threads: [
        [
          {
            op: 'bh',
            body: [
              { op: 'schedule', t: 0 },
              { op: 'hi_schedule', t: 1 },
              { op: 'schedule', t: 2 },
            ],
          },
        ],
        [{ op: 'schedule', t: 2 }],
      ],
    };
    expect([...orderChecks(p)[0]]).toEqual([[0, [[1, 0]]]]);
    expect(soleScheduler(p, 0)).toBe(0);
    expect(soleScheduler(p, 2)).toBeNull();
    const withHotplug: Program = { ...p, threads: [p.threads[0], [{ op: 'hotplug', cpu: 0 }]] };
    expect(orderChecks(withHotplug)[0].size).toBe(0);
  });
});

describe('shards and seeds', () => {
  it('splits a run count into disjoint ranges that cover it', () => {
    for (const [runs, n] of [
      [100, 3],
      [7, 4],
      [1000, 16],
      [3, 5],
    ]) {
      const ranges = Array.from({ length: n }, (_, i) => shardRange({ index: i + 1, count: n }, runs));
      expect(ranges[0].first).toBe(0);
      expect(ranges[n - 1].end).toBe(runs);
      for (let i = 1; i < n; i++) expect(ranges[i].first).toBe(ranges[i - 1].end);
    }
  });

  it('gives unbounded shards disjoint program numbers, hence disjoint seeds', () => {
    const a = shardRange({ index: 1, count: 2 });
    const b = shardRange({ index: 2, count: 2 });
    expect(a.end).toBeLessThanOrEqual(b.first);
    const seeds = new Set<number>();
    for (const r of [a, b]) for (let k = r.first; k < r.first + 1000; k++) seeds.add(programSeed(42, k));
    expect(seeds.size).toBe(2000);
  });

  it('parses i/n and rejects anything else', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/2', '3/2', 'x', '1/0', '1-2', '']) expect(() => parseShard(bad)).toThrow(/--shard/);
  });
});

describe('coverage', () => {
  it('counts overlapping op kinds on different CPUs only', () => {
    const pairs = overlappingPairs([
      { cpu: 0, kind: 'kill', start: 1, end: 10 },
      { cpu: 1, kind: 'schedule', start: 5, end: 6 },
      { cpu: 0, kind: 'run', start: 2, end: 3 }, // same CPU as the kill
      { cpu: 1, kind: 'disable', start: 11, end: 12 }, // after everything on CPU0
    ]);
    expect([...pairs].sort()).toEqual(['kill|schedule']);
    const coverage = new Coverage();
    expect(
      coverage.add([
        ...[{ cpu: 0, kind: 'run' as const, start: 0, end: 3 }],
        { cpu: 1, kind: 'disable' as const, start: 1, end: 2 },
      ]),
    ).toBe(1);
    expect(
      coverage.add([
        { cpu: 0, kind: 'run', start: 0, end: 3 },
        { cpu: 1, kind: 'disable', start: 1, end: 2 },
      ]),
    ).toBe(0);
    expect(coverage.table()).toMatch(/disable/);
  });
});

describe('repro files', () => {
  const program = normalize({
    cpus: 2,
    tasklets: [{ mode: 'private', owner: 0, resched: 0, reschedHi: false, busyUs: 0 }],
    threads: [
      [
        { op: 'schedule', t: 0 },
        { op: 'kill', t: 0 },
      ],
      [],
    ],
  });
  const repro = buildRepro(
    {
      index: 3,
      programSeed: 99,
      delays: { seed: 99, permille: 2, maxUs: 100 },
      original: program,
      program,
      violation: {
        oracle: 'kill',
        guarantee: 10,
        tasklet: 0,
        cpus: [0],
        message: 'x',
        events: [{ kind: 'Kill', cpu: 0, schedSeq: 1 }],
      },
      foundAfterMs: 1,
      foundAfterRuns: 1,
      shrinkSteps: 0,
      shrinkMs: 0,
      reproduction: { runs: 10, failures: 4 },
      schedule: null,
    },
    1234,
    2,
    'kill-no-wait',
  );

  it('round-trips through JSON', () => {
    const back = parseRepro(JSON.stringify(repro));
    expect(back).toEqual(repro);
    expect(back.version).toBe(REPRO_VERSION);
    expect(back.trace.events).toEqual([{ kind: 'Kill', cpu: 0, schedSeq: 1 }]);
  });

  it('an older file replays under the scheduling rules it was recorded with', () => {
    const schedule = {
      strategy: 'pct',
      seed: 5,
      depth: 3,
      quantum: 1,
      expectedSteps: 3000,
      steps: 10,
      preemptions: 1,
      originalPreemptions: 1,
      log: [4, 0, 4, 1],
    };
    const rulesOf = (version: number): unknown =>
      parseRepro(JSON.stringify({ ...repro, version, schedule })).schedule?.scheduleRules;
    expect([1, 2, 3, REPRO_VERSION].map(rulesOf)).toEqual([2, 2, 3, undefined]);
    expect(() => parseRepro(JSON.stringify({ ...repro, version: 'constructor' }))).toThrow(
      /format version "constructor" is not supported/,
    );
  });

  it('so does an older module repro', () => {
    const file = (version: number) => ({
      format: MODULE_REPRO_FORMAT,
      version,
      module: '/m.ts',
      cpus: 2,
      program: { seed: 1, steps: [] },
      violation: { oracle: 'invariant' },
      schedule: { strategy: 'pct', seed: 1, steps: 0, log: [] },
    });
    const rulesOf = (version: number): unknown => parseModuleRepro(file(version)).schedule?.scheduleRules;
    expect([1, 2, 3, MODULE_REPRO_VERSION].map(rulesOf)).toEqual([2, 3, 4, SCHEDULE_RULES]);
    // Before version 4, a machine-wide line's handler ran on several CPUs at once.
    const paramsOf = (version: number): unknown => parseModuleRepro(file(version)).params;
    expect([1, 2, 3, MODULE_REPRO_VERSION].map(paramsOf)).toEqual([
      { 'irq.concurrent_handlers': 1 },
      { 'irq.concurrent_handlers': 1 },
      { 'irq.concurrent_handlers': 1 },
      {},
    ]);
  });

  it('rejects malformed files with one line naming the problem', () => {
    const broken = (edit: (r: Record<string, unknown>) => void): string => {
      const copy = JSON.parse(JSON.stringify(repro));
      edit(copy);
      return JSON.stringify(copy);
    };
    const cases: [string, RegExp][] = [
      ['{', /not JSON/],
      ['[]', /not a tasklet-rt-fuzz-repro file/],
      [broken((r) => (r.version = 99)), /version 99/],
      [broken((r) => (r.cpus = 0)), /cpus/],
      [broken((r) => (r.inject = 'nope')), /inject/],
      [
        broken((r) => ((r.program as Program).threads[0][0] = { op: 'explode', t: 0 } as unknown as Op)),
        /op must be one of/,
      ],
      [broken((r) => (r.program as Program).threads[1].push({ op: 'schedule', t: 0 })), /not well-formed/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseRepro(text)).toThrow(message);
      try {
        parseRepro(text);
      } catch (error) {
        expect((error as Error).message).not.toContain('\n');
      }
    }
  });
});

describe('on a machine', () => {
  let found: CampaignResult;
  let reproFile: ReproFile;
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-test-'));

  beforeAll(async () => {
    // Seed 9 generates, within its first programs, a schedule of a tasklet its CPU holds
    // disabled: the mutant that ignores the count runs it every time.
    found = await runCampaign({
      cpus: 2,
      seed: 9,
      runs: 400,
      inject: 'no-count-check',
      reproRuns: 3,
      shrinkMs: 15_000,
    });
    if (found.failure !== null) reproFile = buildRepro(found.failure, 9, 2, 'no-count-check');
  });

  it('finds a mutant and shrinks its program to a few ops', () => {
    expect(found.status).toBe('failure');
    const f = found.failure!;
    expect(f.violation.oracle).toBe('disabled');
    expect(opCount(f.program)).toBeLessThanOrEqual(opCount(f.original));
    expect(opCount(f.program)).toBeLessThanOrEqual(10);
    expect(problems(f.program)).toEqual([]);
    expect(f.reproduction.failures).toBeGreaterThan(0);
  });

  it('replays a repro file: it reproduces on the mutant, never on the real algorithm', async () => {
    const again = await replay(parseRepro(JSON.stringify(reproFile)), 2);
    expect(again.reproduced).toBeGreaterThan(0);
    const real = await replay({ ...reproFile, inject: null }, 2);
    expect(real.reproduced).toBe(0);
    expect(real.other).toEqual([]);
  });

  it('measures a reproduction with at least 3 runs once its time is up, all of them before', async () => {
    const m = new FuzzMachine({ cpus: 2 });
    try {
      const delays = { seed: 1, permille: 0, maxUs: 0 };
      const late = await reproduce(m, reproFile.program, delays, 10, undefined, undefined, 0);
      expect(late.runs).toBe(3);
      const inTime = await reproduce(m, reproFile.program, delays, 4);
      expect(inTime.runs).toBe(4);
    } finally {
      await m.shutdown();
    }
  });

  it('finds nothing in a short campaign on the real algorithm', async () => {
    const clean = await runCampaign({ cpus: 2, seed: 2024, runs: 80 });
    expect(clean.failure?.violation ?? null).toBeNull();
    expect(clean.status).toBe('clean');
    expect(clean.programs).toBe(80);
    expect(clean.coverage.seen.size).toBeGreaterThan(0);
  });

  describe('the commands', () => {
    const cli = async (...args: string[]): Promise<number> => {
      const program = new Command('tasklet-rt')
        .exitOverride()
        .configureOutput({ writeErr: () => {}, writeOut: () => {} });
      registerFuzz(program);
      const write = process.stdout.write;
      process.stdout.write = () => true;
      const before = process.exitCode;
      try {
        await program.parseAsync(args, { from: 'user' });
        return Number(process.exitCode ?? 0);
      } finally {
        process.stdout.write = write;
        process.exitCode = before;
      }
    };

    it('reject bad usage with one line naming the value', async () => {
      const cases: [string[], RegExp][] = [
        [['fuzz', '--runs', '5', '--duration', '2s'], /cannot be combined/],
        [['fuzz', '--cpus', '0'], /--cpus must be from 1 to 8, got 0/],
        [['fuzz', '--runs', 'many'], /--runs must be a whole number, got 'many'/],
        [['fuzz', '--shard', '5/4'], /--shard 5\/4/],
        [['fuzz', '--inject', 'nope'], /--inject must be one of .* got 'nope'/],
        [['fuzz', '--duration', 'soon'], /--duration must be a duration/],
        [['fuzz', '--out', 'package.json'], /--out package.json: not a directory/],
        [['fuzz', '--junit', join(dir, 'no', 'such', 'x.xml')], /--junit .*does not exist/],
        [['replay'], /missing required argument 'file'/],
        [['replay', join(dir, 'missing.json')], /replay .*missing.json: no such file/],
        [['replay', 'package.json'], /not a tasklet-rt-fuzz-repro file/],
        [['replay', join(dir, 'x.json'), '--times', '0'], /--times must be from 1/],
      ];
      for (const [args, message] of cases) {
        const error = await cli(...args).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, args.join(' ')).toBeInstanceOf(Error);
        expect(error instanceof UsageError || error instanceof CommanderError).toBe(true);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain('\n');
      }
    });

    it('replay exits 1 when the file reproduces, 0 when it does not', async () => {
      const file = join(dir, 'repro.json');
      writeFileSync(file, JSON.stringify(reproFile));
      expect(await cli('replay', file, '--times', '2')).toBe(1);
      const real = join(dir, 'real.json');
      writeFileSync(real, JSON.stringify({ ...reproFile, inject: null }));
      expect(await cli('replay', real, '--times', '2')).toBe(0);
    });

    it('fuzz writes a repro file and JUnit, and exits 1 on a finding', async () => {
      const out = join(dir, 'out');
      const junit = join(dir, 'fuzz.xml');
      const code = await cli(
        'fuzz',
        '--seed',
        '9',
        '--runs',
        '400',
        '--inject',
        'no-count-check',
        '--out',
        out,
        '--junit',
        junit,
        '--quiet',
      );
      expect(code).toBe(1);
      const [name] = readdirSync(out);
      const written = parseRepro(readFileSync(join(out, name), 'utf8'));
      expect(written.inject).toBe('no-count-check');
      expect(readFileSync(junit, 'utf8')).toMatch(/<failure message="disabled:/);
    }, 150_000); // the search, its hunt for a better finding (30 s) and for a controlled schedule (20 s)
  });
});
