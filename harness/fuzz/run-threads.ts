/**
 * Runs a program's threads, one per CPU, together; serves the hotplug cycles they ask for. A
 * violation ends the wait early; threads that do not finish in time are a hang, or a broken
 * G4 when one of them waits on a tasklet that no pass will ever run.
 */
import { fifoTasklets, orderChecks } from './expect.ts';
import type { Interval } from './intervals.ts';
import { FUZZ_IRQ, W_CLOCK, W_HOTPLUG } from './layout.ts';
import type { FuzzSetup } from './module.ts';
import type { FuzzViolation } from './oracles.ts';
import { flatten } from './program.ts';
import { hangViolation, type ProgramRun, stuckWaiterViolation } from './program-run.ts';
import type { ThreadArg } from './thread.ts';

/** After a violation, how long a machine may take to settle before it is replaced. */
export const ABORT_GRACE_MS = 200;

/**
 * Runs the threads of the program `setup` is for to their end; `hotplugs` gets an interval per
 * hotplug cycle served. With `setupInThread`, CPU 0's thread runs the setup first and the others
 * wait for it; otherwise the controller has run it.
 */
export async function runThreads(
  run: ProgramRun,
  hotplugs: Interval[],
  setup: FuzzSetup,
  setupInThread: boolean,
): Promise<FuzzViolation | null> {
  const { m, program, reports, hangMs } = run;
  const orders = orderChecks(program);
  const threads = program.threads.map((ops, cpu) => {
    const arg: ThreadArg = {
      generation: setup.generation,
      ...(cpu === 0 && setupInThread ? { setup } : {}),
      ops,
      orders: [...orders[cpu]],
      fifo: fifoTasklets(program),
    };
    return m.runTask(cpu, 'fuzz_thread', arg, hangMs);
  });
  let settled = false;
  const all = Promise.allSettled(threads).then((results) => {
    settled = true;
    return results;
  });
  const violated = reports.next();
  void watchStuckWaiters(run, () => settled);
  const hotplug = program.threads.some((ops) => flatten(ops).some((op) => op.op === 'hotplug'));
  if (!hotplug) await Promise.race([all, violated]);
  // A violation is in: the run is over. A machine that does not settle soon is replaced.
  if (!settled && reports.violations.length > 0) return abandon(run, all, () => settled);
  if (hotplug) {
    while (!settled) {
      if (reports.violations.length > 0) return abandon(run, all, () => settled);
      await Promise.race([all, m.awaitCpuEvent(1), violated]);
      const failed = await serveHotplug(run, hotplugs);
      if (failed !== null) return failed;
    }
    const failed = await serveHotplug(run, hotplugs);
    if (failed !== null) return failed;
  }
  const results = await all;
  const stuck = results.flatMap((r, cpu) => (r.status === 'rejected' ? [cpu] : []));
  if (stuck.length === 0) return null;
  run.health.poisoned = true;
  return (
    (await stuckWaiterViolation(run)) ??
    hangViolation(run, `the program thread of CPU ${stuck.join(', ')} did not finish within ${hangMs} ms`)
  );
}

/** Free-running, how often the controller looks for a thread stuck on a tasklet no pass will run. */
const STUCK_POLL_MS = 25;
/** A wait on a lost or stranded tasklet this old (jiffies: 100 ms at HZ 250) is reported at once. */
const STUCK_WAIT_JIFFIES = 25;

/**
 * Free-running, a thread stuck on a lost or stranded tasklet is reported as soon as that is
 * sure, not after hangMs: shrinking such a program then costs tens of milliseconds a run, not
 * seconds. Controlled runs leave it to their short hangMs: sleeping here would drive the CPUs.
 */
async function watchStuckWaiters(run: ProgramRun, settled: () => boolean): Promise<void> {
  if (run.m.control !== null) return;
  while (!settled() && run.reports.violations.length === 0) {
    await run.m.sleep(STUCK_POLL_MS);
    if (settled() || run.reports.violations.length > 0) return;
    const found = await stuckWaiterViolation(run, STUCK_WAIT_JIFFIES);
    if (found !== null && !settled()) run.reports.violation(found);
  }
}

/** A violation arrived while the threads ran: give them a moment, else replace the machine. */
async function abandon(run: ProgramRun, all: Promise<unknown>, settled: () => boolean): Promise<null> {
  await Promise.race([all, run.m.sleep(ABORT_GRACE_MS)]);
  if (!settled()) run.health.poisoned = true;
  return null;
}

/** Takes each CPU whose cycle was asked for offline and back online. */
async function serveHotplug(run: ProgramRun, log: Interval[]): Promise<FuzzViolation | null> {
  const { m, words, hangMs } = run;
  for (let cpu = 0; cpu < run.program.cpus; cpu++) {
    while (Atomics.load(words, W_HOTPLUG + cpu) > 0) {
      Atomics.sub(words, W_HOTPLUG + cpu, 1);
      const start = Atomics.add(words, W_CLOCK, 1);
      try {
        await m.cpuDown(cpu, hangMs);
        await m.cpuUp(cpu, hangMs);
      } catch (error) {
        run.health.poisoned = true;
        return hangViolation(run, `hotplug of CPU${cpu}: ${(error as Error).message}`);
      }
      m.raiseIrq(cpu, FUZZ_IRQ); // requests that waited for it while it was offline
      log.push({ cpu, kind: 'hotplug', start, end: Atomics.add(words, W_CLOCK, 1) });
    }
  }
  return null;
}
