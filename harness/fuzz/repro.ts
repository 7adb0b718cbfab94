/**
 * Repro files: a failure as JSON with a format version, enough to run it again (CPUs, mutant,
 * program, delay plan, and in controlled mode the schedule) and to read it (violation, the
 * tasklet's recent events, how often the minimal program reproduced). Reading one validates
 * every field. Version 1 files (before controlled mode) are read as having no schedule.
 */
import {
  FORCED_BIT,
  LOG_FIELDS,
  MAX_DEPTH,
  SCHEDULE_RULES,
  type ScheduleRules,
  STRATEGY_NAMES,
  type StrategyName,
} from '../../control/block.ts';
import { DEFAULT_DEPTH, DEFAULT_EXPECTED_STEPS } from '../../control/driver.ts';
import type { RecentEvent } from '../oracles/shadow.ts';
import { STRESS_MUTANT_NAMES } from '../stress-mutants.ts';
import { IRQ_BH_CALLS, MAX_ON_TICKS, MAX_REARM, NR_TIMERS, NR_WORKS } from './bh-layout.ts';
import type { Failure } from './failure.ts';
import type { DelayPlan } from './injection.ts';
import { FUZZ_MAX_CPUS } from './layout.ts';
import { normalize } from './normalize.ts';
import type { FuzzViolation } from './oracles.ts';
import { MAX_TASKLETS, opCount, type Program, TASKLET_OPS, TIMER_OPS, WORK_OPS } from './program.ts';

export const REPRO_FORMAT = 'tasklet-rt-fuzz-repro';
/**
 * 4: a spinner's check between two yields does not count as having run, for fairness. 3: the
 * controlled scheduler's fairness rule applies in replay too, and a spinning CPU lets the other
 * spinners go first. Files of older versions replay the way they were recorded (RULES_OF_VERSION).
 */
export const REPRO_VERSION = 4;
/** The scheduling rules (control/block.ts) each file version was recorded under. */
const RULES_OF_VERSION: Record<number, ScheduleRules> = { 1: 2, 2: 2, 3: 3, 4: SCHEDULE_RULES };

/** A controlled failure's schedule: replaying `log` runs the failing execution again exactly. */
export interface ReproSchedule {
  strategy: StrategyName;
  seed: number;
  depth: number;
  quantum: number;
  expectedSteps: number;
  /** Decisions the failing run made, and its preemptions before and after shrinking. */
  steps: number;
  preemptions: number;
  originalPreemptions: number;
  /** The decision log, flat: [step, from, from's step, to (+256 if forced)] per switch. */
  log: number[];
  /** Set when read from a file of an older version: its log replays under that version's rules. */
  scheduleRules?: ScheduleRules;
}
export interface ReproFile {
  format: typeof REPRO_FORMAT;
  version: typeof REPRO_VERSION;
  /** Campaign seed, program number and the program's own seed. */
  seed: number;
  index: number;
  programSeed: number;
  cpus: number;
  /** The mutant the machine ran with, null for the real algorithm. */
  inject: string | null;
  delays: DelayPlan;
  /** Controlled mode's schedule; null for a free-running (real parallel) failure. */
  schedule: ReproSchedule | null;
  program: Program;
  ops: number;
  originalOps: number;
  violation: FuzzViolation;
  /** Recent events of the tasklet the violation names, oldest first. */
  trace: { tasklet: number; events: RecentEvent[] };
  reproduction: { runs: number; failures: number };
}

export class ReproError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReproError';
  }
}

export function buildRepro(
  failure: Failure,
  seed: number,
  cpus: number,
  inject: string | undefined,
): ReproFile {
  const { events = [], ...violation } = failure.violation;
  const s = failure.schedule;
  return {
    format: REPRO_FORMAT,
    version: REPRO_VERSION,
    seed,
    index: failure.index,
    programSeed: failure.programSeed,
    cpus,
    inject: inject ?? null,
    delays: failure.delays,
    schedule:
      s === null
        ? null
        : {
            strategy: s.plan.strategy,
            seed: s.plan.seed,
            depth: s.plan.depth ?? DEFAULT_DEPTH,
            quantum: s.plan.quantum ?? 1,
            expectedSteps: s.plan.expectedSteps ?? DEFAULT_EXPECTED_STEPS,
            steps: s.steps,
            preemptions: s.preemptions,
            originalPreemptions: s.originalPreemptions,
            log: s.log,
          },
    program: failure.program,
    ops: opCount(failure.program),
    originalOps: opCount(failure.original),
    violation,
    trace: { tasklet: violation.tasklet, events },
    reproduction: failure.reproduction,
  };
}

export const reproFileName = (r: ReproFile): string =>
  `repro-${r.inject ?? 'real'}-${r.violation.oracle}${r.schedule ? `-${r.schedule.strategy}` : ''}-s${r.seed}-p${r.index}.json`;

// ---------------------------------------------------------------------------------------------
// Validation.

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function int(o: Json, key: string, min: number, max: number, where: string): number {
  const v = o[key];
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    throw new ReproError(
      `${where}.${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`,
    );
  return v as number;
}

function bool(o: Json, key: string, where: string): void {
  if (typeof o[key] !== 'boolean') throw new ReproError(`${where}.${key} must be true or false`);
}

function oneOf(o: Json, key: string, values: readonly string[], where: string): void {
  if (!values.includes(o[key] as string))
    throw new ReproError(
      `${where}.${key} must be one of ${values.join(', ')}, got ${JSON.stringify(o[key])}`,
    );
}

function checkOp(op: unknown, cpus: number, where: string, inSection = false): void {
  if (!isObject(op)) throw new ReproError(`${where} is not an object`);
  const kinds = [
    ...TASKLET_OPS,
    ...WORK_OPS,
    ...TIMER_OPS,
    'irq',
    'irq_bh',
    'delay',
    'hotplug',
    'pace',
    ...(inSection ? [] : ['irqsave', 'bh', 'orphan', 'race']),
  ];
  oneOf(op, 'op', kinds, where);
  if ((WORK_OPS as readonly string[]).includes(op.op as string)) {
    int(op, 'w', 0, NR_WORKS - 1, where);
    if (op.op === 'queue_work_on') int(op, 'cpu', 0, cpus - 1, where);
  } else if ((TIMER_OPS as readonly string[]).includes(op.op as string)) {
    int(op, 'x', 0, NR_TIMERS - 1, where);
    if (op.op !== 'del_timer' && op.op !== 'del_timer_sync') int(op, 'ticks', 0, MAX_ON_TICKS, where);
    if (op.op === 'add_timer_on') int(op, 'cpu', 0, cpus - 1, where);
    if (op.op === 'mod_timer') int(op, 'rearm', 0, MAX_REARM, where);
  } else if (op.op === 'irq_bh') {
    int(op, 'cpu', 0, cpus - 1, where);
    oneOf(op, 'call', IRQ_BH_CALLS, where);
    int(op, 'n', 0, NR_WORKS - 1, where);
    int(op, 'at', 1, 1000, where);
  } else if (op.op === 'irqsave' || op.op === 'bh') {
    if (!Array.isArray(op.body)) throw new ReproError(`${where}.body must be an array`);
    for (const [k, inner] of op.body.entries()) checkOp(inner, cpus, `${where}.body[${k}]`, true);
  } else if (op.op === 'race') return;
  else if (op.op === 'delay') int(op, 'us', 0, 10_000, where);
  else if (op.op === 'hotplug') int(op, 'cpu', 0, cpus - 1, where);
  else if (op.op === 'pace') {
    int(op, 't', 0, MAX_TASKLETS - 1, where);
    bool(op, 'hi', where);
  } else if (op.op === 'orphan') {
    int(op, 't', 0, MAX_TASKLETS - 1, where);
    int(op, 'probe', 0, MAX_TASKLETS - 1, where);
    bool(op, 'hi', where);
  } else {
    int(op, 't', 0, MAX_TASKLETS - 1, where);
    if (op.op === 'irq') {
      int(op, 'cpu', 0, cpus - 1, where);
      bool(op, 'hi', where);
      int(op, 'at', 1, 1000, where);
    }
  }
}

function checkProgram(p: unknown, cpus: number): Program {
  if (!isObject(p)) throw new ReproError('program is not an object');
  if (p.cpus !== cpus)
    throw new ReproError(`program.cpus (${JSON.stringify(p.cpus)}) differs from cpus (${cpus})`);
  if (!Array.isArray(p.tasklets) || p.tasklets.length < 1 || p.tasklets.length > MAX_TASKLETS)
    throw new ReproError(`program.tasklets must be an array of 1 to ${MAX_TASKLETS} tasklets`);
  p.tasklets.forEach((spec, t) => {
    const where = `program.tasklets[${t}]`;
    if (!isObject(spec)) throw new ReproError(`${where} is not an object`);
    oneOf(spec, 'mode', ['shared-disable', 'shared-kill', 'private'], where);
    int(spec, 'owner', 0, cpus - 1, where);
    int(spec, 'resched', 0, 1000, where);
    bool(spec, 'reschedHi', where);
    int(spec, 'busyUs', 0, 100_000, where);
  });
  if (!Array.isArray(p.threads) || p.threads.length !== cpus)
    throw new ReproError(`program.threads must be an array of ${cpus} op lists`);
  p.threads.forEach((ops, cpu) => {
    if (!Array.isArray(ops)) throw new ReproError(`program.threads[${cpu}] must be an array`);
    for (const [k, op] of ops.entries()) checkOp(op, cpus, `program.threads[${cpu}][${k}]`);
  });
  const program = p as unknown as Program;
  if (JSON.stringify(normalize(program)) !== JSON.stringify(program))
    throw new ReproError("program is not well-formed (it could hang or break the oracles' assumptions)");
  return program;
}

function checkSchedule(s: unknown, cpus: number): void {
  if (s === null || s === undefined) return;
  if (!isObject(s)) throw new ReproError('file.schedule must be an object or null');
  oneOf(s, 'strategy', STRATEGY_NAMES, 'schedule');
  int(s, 'seed', 0, 2 ** 32 - 1, 'schedule');
  int(s, 'depth', 1, MAX_DEPTH, 'schedule');
  int(s, 'quantum', 1, 1_000_000, 'schedule');
  int(s, 'expectedSteps', 1, 2 ** 40, 'schedule');
  for (const key of ['steps', 'preemptions', 'originalPreemptions']) int(s, key, 0, 2 ** 52, 'schedule');
  const log = s.log;
  if (
    !Array.isArray(log) ||
    log.length % LOG_FIELDS !== 0 ||
    !log.every((v) => Number.isInteger(v) && v >= 0)
  )
    throw new ReproError(
      `schedule.log must be a flat array of non-negative integers, ${LOG_FIELDS} per switch`,
    );
  for (let e = 0; e < log.length; e += LOG_FIELDS) {
    const to = log[e + 3] & (FORCED_BIT - 1);
    if (log[e + 1] > cpus || to >= cpus)
      throw new ReproError(`schedule.log entry ${e / LOG_FIELDS} names a CPU this ${cpus}-CPU machine lacks`);
  }
}

/** Parses and validates a repro file's text; throws a one-line ReproError. */
export function parseRepro(text: string): ReproFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ReproError(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(data) || data.format !== REPRO_FORMAT) throw new ReproError(`not a ${REPRO_FORMAT} file`);
  const rules = typeof data.version === 'number' ? RULES_OF_VERSION[data.version] : undefined;
  if (rules === undefined)
    throw new ReproError(
      `format version ${JSON.stringify(data.version)} is not supported (this build reads 1 to ${REPRO_VERSION})`,
    );
  data.schedule ??= null;
  if (rules !== SCHEDULE_RULES && isObject(data.schedule)) data.schedule.scheduleRules = rules;
  data.version = REPRO_VERSION;
  const cpus = int(data, 'cpus', 1, FUZZ_MAX_CPUS, 'file');
  for (const key of ['seed', 'index', 'programSeed']) int(data, key, 0, 2 ** 32 - 1, 'file');
  if (data.inject !== null) oneOf(data, 'inject', STRESS_MUTANT_NAMES, 'file');
  if (!isObject(data.delays)) throw new ReproError('file.delays must be an object');
  int(data.delays, 'seed', 0, 2 ** 32 - 1, 'delays');
  int(data.delays, 'permille', 0, 1000, 'delays');
  int(data.delays, 'maxUs', 0, 10_000, 'delays');
  checkProgram(data.program, cpus);
  checkSchedule(data.schedule, cpus);
  if (!isObject(data.violation) || typeof data.violation.oracle !== 'string')
    throw new ReproError('file.violation must name its oracle');
  return data as unknown as ReproFile;
}
