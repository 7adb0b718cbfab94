/**
 * Module fuzz repro files: the module, the machine, the shrunk program and, in controlled mode,
 * the decision log that replays the failing run exactly; and the replay itself (each run's
 * log compared with the file's).
 */
import { resolve } from 'node:path';
import { SCHEDULE_RULES, type ScheduleRules } from '../../control/block.ts';
import type { ControlledOptions } from '../../control/driver.ts';
import type { ViolationReport } from '../stress/result.ts';
import type { ModuleFinding } from './fuzz.ts';
import { findingOf } from './fuzz.ts';
import { findingKey, runModuleProgram } from './fuzz-run.ts';
import type { ModuleProgram } from './program.ts';

export const MODULE_REPRO_FORMAT = 'tasklet-rt-module-repro';
/**
 * 4: a machine-wide line's handler runs on one CPU at a time (kernel/irq.ts); files of version 3
 * replay with handlers on several CPUs at once and the scheduling rules of fuzz repro format 4,
 * version 2 under the rules of format 3, version 1 under the older ones (control/block.ts).
 */
export const MODULE_REPRO_VERSION = 4;
/** The scheduling rules each module repro version was recorded under. */
const RULES_OF_VERSION: Record<number, ScheduleRules> = { 1: 2, 2: 3, 3: 4, 4: SCHEDULE_RULES };
/** Files before version 4 ran with a machine-wide line's handler on several CPUs at once. */
const PARAMS_OF_VERSION: Record<number, Record<string, number>> = {
  1: { 'irq.concurrent_handlers': 1 },
  2: { 'irq.concurrent_handlers': 1 },
  3: { 'irq.concurrent_handlers': 1 },
};

export interface ModuleRepro {
  format: typeof MODULE_REPRO_FORMAT;
  version: typeof MODULE_REPRO_VERSION;
  /** The module file, absolute, and as the command line named it. */
  module: string;
  moduleAsGiven: string;
  cpus: number;
  params: Record<string, number>;
  seed: number;
  program: ModuleProgram;
  originalSteps: number;
  violation: ViolationReport;
  /** Controlled: the strategy and the decision log of the failing run; null free-running. */
  schedule: (ControlledOptions & { steps: number; log: number[] }) | null;
}

export class ModuleReproError extends Error {}

export function buildModuleRepro(
  finding: ModuleFinding,
  target: { file: string; display: string; cpus: number; params: Record<string, number>; seed: number },
  controlled: ControlledOptions | undefined,
): ModuleRepro {
  const s = finding.outcome.schedule;
  return {
    format: MODULE_REPRO_FORMAT,
    version: MODULE_REPRO_VERSION,
    module: resolve(target.file),
    moduleAsGiven: target.display,
    cpus: target.cpus,
    params: target.params,
    seed: target.seed,
    program: finding.program,
    originalSteps: finding.original.steps.length,
    violation: findingOf(finding.outcome)!,
    schedule:
      controlled === undefined || s === null
        ? null
        : { ...controlled, seed: finding.program.seed, steps: s.steps, log: s.log },
  };
}

/** Whether a parsed JSON value is a module repro (else it may be a built-in fuzz repro). */
export const isModuleRepro = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  (value as { format?: unknown }).format === MODULE_REPRO_FORMAT;

export function parseModuleRepro(value: unknown): ModuleRepro {
  const r = value as ModuleRepro;
  const rules = typeof r.version === 'number' ? RULES_OF_VERSION[r.version] : undefined;
  if (rules === undefined)
    throw new ModuleReproError(
      `module repro version ${String(r.version)} is not supported (this build reads 1 to ${MODULE_REPRO_VERSION})`,
    );
  const bad = (field: string): never => {
    throw new ModuleReproError(`module repro: bad or missing ${field}`);
  };
  if (typeof r.module !== 'string') bad('module');
  if (!Number.isInteger(r.cpus) || r.cpus < 1) bad('cpus');
  if (typeof r.program !== 'object' || r.program === null || !Array.isArray(r.program.steps)) bad('program');
  if (!Number.isInteger(r.program.seed)) bad('program.seed');
  if (typeof r.violation !== 'object' || r.violation === null || typeof r.violation.oracle !== 'string')
    bad('violation');
  if (r.schedule !== null && (typeof r.schedule !== 'object' || !Array.isArray(r.schedule.log)))
    bad('schedule');
  return {
    ...r,
    version: MODULE_REPRO_VERSION,
    params: { ...PARAMS_OF_VERSION[r.version], ...r.params },
    schedule: r.schedule === null ? null : { ...r.schedule, scheduleRules: rules },
  };
}

export interface ModuleReplayResult {
  times: number;
  /** Runs that ended with the same finding. */
  reproduced: number;
  /** Controlled: runs whose decision log equals the file's. */
  exact: number | null;
  first: ViolationReport | null;
  other: ViolationReport[];
}

export async function replayModule(repro: ModuleRepro, times: number): Promise<ModuleReplayResult> {
  const key = findingKey(repro.violation);
  const expected = repro.schedule === null ? null : JSON.stringify(repro.schedule.log);
  const { schedule } = repro;
  const controlled: ControlledOptions | undefined =
    schedule === null
      ? undefined
      : {
          strategy: schedule.strategy,
          seed: schedule.seed,
          depth: schedule.depth,
          quantum: schedule.quantum,
          scheduleRules: schedule.scheduleRules,
        };
  let reproduced = 0;
  let exact = 0;
  let first: ViolationReport | null = null;
  const other: ViolationReport[] = [];
  for (let k = 0; k < times; k++) {
    const outcome = await runModuleProgram(
      { file: repro.module, cpus: repro.cpus, params: repro.params, controlled },
      repro.program,
      schedule?.log,
    );
    const finding = findingOf(outcome);
    if (finding !== null && findingKey(finding) === key) {
      reproduced++;
      first ??= finding;
    } else if (finding !== null) other.push(finding);
    if (expected !== null && outcome.schedule !== null && JSON.stringify(outcome.schedule.log) === expected)
      exact++;
  }
  return { times, reproduced, exact: expected === null ? null : exact, first, other };
}
