/**
 * What the machine view finds, in the oracles' terms: a lost or stranded tasklet breaks G4, a tasklet on
 * two queues or a looping queue breaks G11 (docs/semantics.md); and the words both harnesses
 * use to say where a tasklet is and what each CPU waits for when the machine hangs.
 * Controller side: it reads the machine through machine/view.ts.
 */
import {
  type Finding,
  type Holders,
  type MachineView,
  type StrandedOn,
  stateFlags,
} from '../../machine/view.ts';
import { WaitKind } from '../../shm/layout.ts';
import type { MachineClock } from './drain.ts';
import { type Violation, violation } from './guarantees.ts';

/** How a harness names its tasklets. */
export interface TaskletNames {
  /** The harness's index of runtime tasklet `id`, -1 if it is not one of its tasklets. */
  index(id: number): number;
  /** The name of index `i` (stress3, t0). */
  name(i: number): string;
}

/** The harness's name for a runtime tasklet, or `tasklet #id` for another one. */
export function taskletLabel(names: TaskletNames, id: number): string {
  const i = names.index(id);
  return i >= 0 ? names.name(i) : `tasklet #${id}`;
}

/** A tasklet whose next links loop (MachineView.linkCycle). */
export const linkLoopMessage = (name: string): string =>
  `the next links from ${name} loop: a tasklet list that a pass walks forever`;

/**
 * The violation a finding proves once it lasts (a tasklet queued while it runs is fine for a
 * moment: the caller makes sure), or null for a kill waiting on a disabled tasklet: misuse,
 * not a broken guarantee.
 */
export function findingViolation(finding: Finding, names: TaskletNames): Violation | null {
  switch (finding.kind) {
    case 'queue-cycle':
      return violation('structure', -1, [finding.cpu], `CPU${finding.cpu}'s tasklet queue has a cycle`);
    case 'queued-twice': {
      const i = names.index(finding.tasklet);
      const { cpus } = finding;
      return violation(
        'structure',
        i,
        cpus,
        `${taskletLabel(names, finding.tasklet)} is queued ${cpus.length} times (on the queues of CPU ${cpus.join(', ')})`,
      );
    }
    case 'lost': {
      const i = names.index(finding.tasklet);
      return violation('at-least-once', i, [], lostMessage(taskletLabel(names, finding.tasklet)));
    }
    case 'queued-while-running': {
      const i = names.index(finding.tasklet);
      return violation(
        'structure',
        i,
        finding.cpus,
        `${taskletLabel(names, finding.tasklet)} stays queued with RUN set and never runs`,
      );
    }
    case 'stuck-waiter': {
      if (finding.reason === 'disabled') return null;
      const i = names.index(finding.tasklet);
      const cpu = finding.waiter.cpu;
      const who = taskletLabel(names, finding.tasklet);
      const what = finding.reason === 'lost' ? lostMessage(who) : strandedMessage(who, finding.on);
      return violation('at-least-once', i, [cpu], `${what} (tasklet_kill on CPU${cpu} waits forever)`);
    }
  }
}

/** How long a stuck waiter must stay stuck the same way to count. */
const CONFIRM_MS = 50;

type StuckWaiter = Extract<Finding, { kind: 'stuck-waiter' }>;

/**
 * Whether a finding stands. A stuck waiter is confirmed by a second look a while later: the
 * same wait (CPU, start) on the same tasklet, stuck for the same reason, while the waiting CPU
 * went round its wait loop. A lost tasklet must also have no softirq in service anywhere at
 * either look (a pass takes a whole queue before it runs the entries); a stranded one must still
 * sit on the same queue with no softirq invocation on that CPU since (a schedule appends, then
 * raises). Every other finding the caller has already seen last.
 */
export async function confirmed(view: MachineView, clock: MachineClock, finding: Finding): Promise<boolean> {
  if (finding.kind !== 'stuck-waiter' || finding.reason === 'disabled') return true;
  const noPassAnywhere = () => view.onlineCpus().every((cpu) => !view.servingSoftirq(cpu));
  if (finding.reason === 'lost' && !noPassAnywhere()) return false;
  const beat = view.heartbeat(finding.waiter.cpu);
  await clock.sleep(CONFIRM_MS);
  const again = view
    .findings([finding.tasklet])
    .find((f): f is StuckWaiter => f.kind === 'stuck-waiter' && sameWait(f, finding));
  if (again === undefined || view.heartbeat(finding.waiter.cpu) === beat) return false;
  if (again.reason === 'lost') return noPassAnywhere();
  if (again.reason !== 'stranded' || finding.reason !== 'stranded') return false;
  const [now, then] = [again.on, finding.on];
  return now.cpu === then.cpu && now.queue === then.queue && now.invocations === then.invocations;
}

/**
 * A tasklet of `ids` stranded on a queue, confirmed by a second look `CONFIRM_MS` later (the
 * same queue, no softirq invocation on that CPU since): G4, for a drain that did not end.
 */
export async function strandedViolation(
  view: MachineView,
  clock: MachineClock,
  ids: readonly number[],
  names: TaskletNames,
): Promise<Violation | null> {
  const first = ids.map((id) => view.stranded(id));
  if (first.every((on) => on === null)) return null;
  await clock.sleep(CONFIRM_MS);
  for (const [k, id] of ids.entries()) {
    const then = first[k];
    const now = view.stranded(id);
    if (then === null || now === null) continue;
    if (now.cpu !== then.cpu || now.queue !== then.queue || now.invocations !== then.invocations) continue;
    return violation(
      'at-least-once',
      names.index(id),
      [now.cpu],
      strandedMessage(taskletLabel(names, id), now),
    );
  }
  return null;
}

const sameWait = (a: StuckWaiter, b: StuckWaiter): boolean =>
  a.reason === b.reason &&
  a.tasklet === b.tasklet &&
  a.waiter.cpu === b.waiter.cpu &&
  a.waiter.pid === b.waiter.pid &&
  a.waiter.since === b.waiter.since;

const lostMessage = (who: string): string =>
  `${who} has SCHED set but is on no queue and not running: its run was lost`;

const strandedMessage = (who: string, on: StrandedOn): string =>
  `${who} sits on CPU${on.cpu}'s ${on.queue === 'hi' ? 'tasklet_hi_vec' : 'tasklet_vec'} but CPU${on.cpu} has ${on.queue === 'hi' ? 'HI_SOFTIRQ' : 'TASKLET_SOFTIRQ'} neither pending nor running: no pass will take it`;

/** "now state SCHED, on the queue of CPU 1": where a tasklet is, read from the queues themselves. */
export function describeWhere(view: MachineView, id: number, holders?: Holders): string {
  const where = view.whereIs(id, holders);
  const queues = where.holders.length > 0 ? `on the queue of CPU ${where.holders.join(', ')}` : 'on no queue';
  return `now state ${stateFlags(where.tasklet.state)}, ${queues}`;
}

/**
 * "hang: <what>; CPU0 pid 1001 waits (TaskletSchedClear) on t2 (now state SCHED, on no queue);
 * CPU1 runs pid 1002 (stress/1) in softirq, irqs on": a hang, with what each CPU waits for, or
 * what it runs. `more(id)` adds what the harness knows of a tasklet.
 */
export function hangMessage(
  view: MachineView,
  names: TaskletNames,
  what: string,
  more: (id: number) => string = () => '',
): string {
  const holders = view.holders();
  const waiters = view.waiters();
  const waits = waiters.map((w) => {
    const head = `CPU${w.cpu} pid ${w.pid} waits (${WaitKind[w.kind]})`;
    if (w.tasklet < 0) return head;
    return `${head} on ${taskletLabel(names, w.tasklet)} (${describeWhere(view, w.tasklet, holders)}${more(w.tasklet)})`;
  });
  // The CPUs in no published wait: where they are is the next question a reader asks.
  const others = Array.from({ length: view.nrCpus }, (_, cpu) => cpu)
    .filter((cpu) => !waiters.some((w) => w.cpu === cpu))
    .map((cpu) => view.describeCpu(cpu));
  const all = [...waits, ...others];
  return `hang: ${what}${all.length > 0 ? `; ${all.join('; ')}` : ''}`;
}

/**
 * G11 on a drained machine: every tasklet queue, online or offline, is empty with its tail word at
 * its head word. A stale tail (a pass, an unlink or a takeover that forgot it) makes the next
 * tasklet_schedule there append where no pass looks, and that tasklet is lost later, far from the
 * cause (in fuzz, in another program).
 */
export function staleTailFinding(view: MachineView, names: TaskletNames): Violation | null {
  const q = view.queues().find((q) => !q.tailOk && !q.cycle && !q.badLink);
  if (q === undefined) return null;
  const vec = q.kind === 'hi' ? 'tasklet_hi_vec' : 'tasklet_vec';
  const owner = view.nextFieldOwner(q.tail);
  const at = owner >= 0 ? `the next field of ${taskletLabel(names, owner)}` : `word ${q.tail}`;
  const what = q.head === 0 ? 'is empty but its tail points' : 'has a tail that points';
  return violation(
    'structure',
    owner >= 0 ? names.index(owner) : -1,
    [q.cpu],
    `CPU${q.cpu}'s ${vec} ${what} at ${at}, not at its ${q.head === 0 ? 'head' : "last entry's next"}: the next tasklet_schedule there appends where no pass looks`,
  );
}
