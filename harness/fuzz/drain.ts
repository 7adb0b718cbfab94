/**
 * A fuzz program's drain, once its threads are done: the shared drain routine waits until
 * every tasklet is idle, every queue empty and nothing is in flight; a tasklet that stays in a
 * state no correct machine leaves it in (lost, queued twice, queued while running) is the
 * finding, as is a timer arm or work queueing still outstanding once the last expiry is past
 * (bh-drain.ts); so is one stranded on a queue whose CPU never raised its softirq, when the
 * drain does not end. Either way the machine goes on only if it is quiet.
 */
import { wholeUs } from '../../shm/clock.ts';
import { drain } from '../oracles/drain.ts';
import { findingViolation, strandedViolation } from '../oracles/findings.ts';
import { listsViolation } from '../oracles/lists-at-fault.ts';
import { F_IN_FLIGHT, F_INSIDE, recent_events, tw } from '../oracles/shadow.ts';
import { bhIdle, bhStuck } from './bh-drain.ts';
import { unbalancedCount } from './end-checks.ts';
import { FUZZ_IRQ, W_HOTPLUG, W_MAILBOX } from './layout.ts';
import type { FuzzViolation } from './oracles.ts';
import { fuzzNames, hangViolation, type ProgramRun, programIds } from './program-run.ts';
import { ABORT_GRACE_MS } from './run-threads.ts';

/** A drain normally takes a millisecond or two; a tasklet still busy after this never ends. */
const DRAIN_MS = 500;
/** How long a tasklet must sit in an impossible state before it counts as stuck. */
const STUCK_MS = 100;

export async function drainProgram(run: ProgramRun): Promise<FuzzViolation | null> {
  const { m, view } = run;
  for (const cpu of m.onlineCpus()) m.raiseIrq(cpu, FUZZ_IRQ);
  const started = m.now();
  const limitMs = Math.min(DRAIN_MS, run.hangMs);
  const ids = programIds(run);
  const result = await drain({
    clock: m,
    idle: () => idle(run, ids),
    timeoutMs: limitMs,
    abandon: () => run.reports.violations.length > 0 && wholeUs(m.now() - started) > wholeUs(ABORT_GRACE_MS),
    stuck: {
      find: () => stuckTasklet(run, ids) ?? bhStuck(run.bh, m.jiffies()),
      key: (v) => v.message,
      forMs: STUCK_MS,
    },
  });
  if (result.status === 'idle') {
    const broken = await listsViolation(view, m.memory, fuzzNames(run.words), m);
    // Its lists are corrupt: the next program gets a fresh machine, not this one's findings.
    if (broken !== null) run.health.poisoned = true;
    return broken;
  }
  // What is left on a quiet machine are lost tasklets, which the next setup replaces; a timer
  // or work item left busy may sit on a broken list that the next setup would walk for ever.
  run.health.poisoned = !view.quiet(ids) || !bhIdle(run.bh, m.memory);
  switch (result.status) {
    case 'abandoned':
      return null; // the finding is in; only whether the machine can go on was left to decide
    case 'stuck':
      return result.finding;
    case 'stalled':
    case 'timeout': {
      const found = result.status === 'timeout' ? result.finding : null;
      if (found !== null) return found;
      const unbalanced = unbalancedCount(run, ids);
      if (unbalanced !== null) return { ...unbalanced, events: recent_events(run.sh, unbalanced.tasklet) };
      const stranded = await strandedViolation(view, m, ids, fuzzNames(run.words));
      if (stranded !== null) return { ...stranded, events: recent_events(run.sh, stranded.tasklet) };
      return hangViolation(run, `the machine did not drain within ${limitMs} ms`);
    }
  }
}

/** Drained, and nothing of the harness in flight: no schedule, queue or arm call, no callback, no request. */
function idle({ m, view, sh, words, bh }: ProgramRun, ids: number[]): boolean {
  // Requests and calls in flight first, the state after them: read the other way round, an
  // interrupt could serve a request in between (its schedule unseen by the state read before,
  // the request gone by the time the mailbox is read), and the drain end with a run owed.
  for (let w = W_MAILBOX; w < W_HOTPLUG; w++) if (Atomics.load(words, w) !== 0) return false;
  for (let i = 0; i < ids.length; i++) {
    if (Atomics.load(sh, tw(i, F_IN_FLIGHT)) !== 0) return false;
    // The shadow's own word, not RUN: a broken RUN bit must not end the drain mid-callback.
    if (Atomics.load(sh, tw(i, F_INSIDE)) !== 0) return false;
  }
  return bhIdle(bh, m.memory) && view.drained(ids);
}

/** A program tasklet in a state no correct machine leaves it in once the threads are done, or null. */
function stuckTasklet({ view, sh, words }: ProgramRun, ids: number[]): FuzzViolation | null {
  for (const finding of view.findings(ids)) {
    if (finding.kind !== 'queued-twice' && finding.kind !== 'lost' && finding.kind !== 'queued-while-running')
      continue;
    const v = findingViolation(finding, fuzzNames(words))!;
    return { ...v, events: recent_events(sh, v.tasklet) };
  }
  return null;
}
