/**
 * One program's run on a fuzz machine, as its pieces (threads, drain, end checks) share it:
 * the machine and its view, the fuzz module's words, and whether the machine may go on to the
 * next program.
 */
import type { Machine } from '../../machine/index.ts';
import type { MachineView } from '../../machine/view.ts';
import {
  confirmed,
  findingViolation,
  hangMessage,
  linkLoopMessage,
  type TaskletNames,
} from '../oracles/findings.ts';
import { violation } from '../oracles/guarantees.ts';
import { listsAtFault } from '../oracles/lists-at-fault.ts';
import { recent_events } from '../oracles/shadow.ts';
import { W_IDS, W_NR_TASKLETS } from './layout.ts';
import type { FuzzViolation } from './oracles.ts';
import type { Program } from './program.ts';
import type { FuzzReports } from './reports.ts';

/** Whether the machine must be replaced before the next program (a hung thread, a fault). */
export interface MachineHealth {
  poisoned: boolean;
}

export interface ProgramRun {
  readonly m: Machine;
  readonly view: MachineView;
  /** The fuzz module's words (layout.ts) and the oracles' shadow. */
  readonly words: Int32Array;
  readonly sh: Int32Array;
  /** The work items' and timers' records (bh-layout.ts). */
  readonly bh: Int32Array;
  readonly program: Program;
  readonly reports: FuzzReports;
  /** A thread, hotplug step or drain that takes longer than this is a hang (machine time). */
  readonly hangMs: number;
  readonly health: MachineHealth;
}

/** Runtime ids of the program's tasklets, in program order (set by the module's setup). */
export function programIds({ words, program }: ProgramRun): number[] {
  return program.tasklets.map((_, i) => Atomics.load(words, W_IDS + i));
}

/** Program tasklets are t0, t1, ... */
export function fuzzNames(words: Int32Array): TaskletNames {
  return {
    index: (id) => {
      const n = Atomics.load(words, W_NR_TASKLETS);
      for (let i = 0; i < n; i++) if (Atomics.load(words, W_IDS + i) === id) return i;
      return -1;
    },
    name: (i) => `t${i}`,
  };
}

/**
 * A hang, with what each CPU waits for; or, when a queue is broken (a cycle, an entry on two
 * queues), that broken structure (G11), which is why a pass or a wait never ends.
 */
export function hangViolation(run: ProgramRun, what: string): FuzzViolation {
  const { view, words } = run;
  const ids = programIds(run);
  // Queues are walked one after the other on a live machine: a broken structure counts when a
  // second walk finds it too (a tasklet seen on two queues as it moved does not last).
  const again = view.findings(ids).map((f) => JSON.stringify(f));
  for (const finding of view.findings(ids)) {
    if (finding.kind !== 'queue-cycle' && finding.kind !== 'queued-twice') continue;
    if (!again.includes(JSON.stringify(finding))) continue;
    const v = findingViolation(finding, fuzzNames(words))!;
    return { ...v, message: `${v.message} (${what})` };
  }
  const looped = view.linkCycle(ids);
  if (looped >= 0) {
    const i = ids.indexOf(looped);
    return violation('structure', i, [], `${linkLoopMessage(`t${i}`)} (${what})`);
  }
  const lists = listsAtFault(view, run.m.memory, fuzzNames(words));
  if (lists !== null) return { ...lists, message: `${lists.message} (${what})` };
  return {
    oracle: 'hang',
    guarantee: null,
    tasklet: -1,
    cpus: [],
    message: hangMessage(view, fuzzNames(words), what),
  };
}

/**
 * A thread that waits on a tasklet no pass will ever run (lost or stranded): G4, not just a
 * hang. `minJiffies`: only waits that began at least this long ago.
 */
export async function stuckWaiterViolation(run: ProgramRun, minJiffies = 0): Promise<FuzzViolation | null> {
  const now = run.m.jiffies();
  for (const finding of run.view.findings(programIds(run))) {
    if (finding.kind !== 'stuck-waiter' || ((now - finding.waiter.since) | 0) < minJiffies) continue;
    const v = findingViolation(finding, fuzzNames(run.words));
    if (v !== null && (await confirmed(run.view, run.m, finding)))
      return { ...v, events: recent_events(run.sh, v.tasklet) };
  }
  return null;
}
