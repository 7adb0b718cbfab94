/**
 * One stress drain: every CPU back online, the tasks told to stop making work, their acks
 * awaited, the machine drained (the shared drain routine), then the drain-time oracles on
 * every tasklet. A drain that waits long for its acks looks for a lost tasklet meanwhile: a
 * kill waiting on one can never return, and neither can that CPU's ack.
 */
import { drain } from '../oracles/drain.ts';
import { check_warnings, first_drain_violation } from '../oracles/drain-checks.ts';
import { describeWhere } from '../oracles/findings.ts';
import { violation } from '../oracles/guarantees.ts';
import { listsViolation } from '../oracles/lists-at-fault.ts';
import { checkBhDrained, settleBh } from './bh-drain.ts';
import type { StressContext } from './context.ts';
import { reportHang } from './hang.ts';
import { Phase, S_G12_WARNED } from './shadow.ts';
import { reportStuck } from './stuck.ts';

const DRAIN_ACK_TIMEOUT_MS = 15_000;
/** After this long without all acks, look for a waiter stuck on a lost tasklet. */
const LOST_CHECK_MS = 2_000;
/** A drain that makes no tasklet run for this long while work is left has a stuck tasklet. */
const DRAIN_STALL_MS = 2_000;
const DRAIN_IDLE_TIMEOUT_MS = 30_000;

/** Drain number `epoch`; the final one runs its checks even when the run is stopping. */
export async function drainEpoch(ctx: StressContext, epoch: number, final: boolean): Promise<void> {
  const { machine, workload, verdicts, stop, view } = ctx;
  // An offline CPU's task is frozen, maybe holding a tasklet disabled: bring it back first.
  for (let cpu = 0; cpu < ctx.options.cpus; cpu++) {
    if (!machine.onlineCpus().includes(cpu)) await machine.cpuUp(cpu);
  }
  workload.beginDrain(epoch);
  const acked = () => workload.acked(machine.onlineCpus(), epoch);
  if (!(await waitFor(ctx, acked, LOST_CHECK_MS, () => {})) && !stop.stopping) {
    await reportStuck(ctx);
    // A task waits on a tasklet no pass will run: the acks will never come.
    if (verdicts.violations.length > 0) return;
    const reached = await waitFor(ctx, acked, DRAIN_ACK_TIMEOUT_MS - LOST_CHECK_MS, () => {});
    if (!reached && verdicts.faults.length === 0) {
      // A second look, the other tasks parked by now: a waiter on a lost tasklet is confirmed
      // only while no pass runs anywhere (one may hold it on its list), and a busy machine
      // seldom gives the first look that.
      await reportStuck(ctx);
      if (verdicts.violations.length > 0) return;
      reportHang(ctx, 'the stress tasks did not reach the drain point');
    }
  }
  if (stop.stopping && !final) return;
  const ids = workload.ids();
  // A loaded host is slow: the drain goes on as long as tasklets still run somewhere.
  const drained = await drain({
    clock: machine,
    idle: () => view.drained(ids),
    timeoutMs: DRAIN_IDLE_TIMEOUT_MS,
    abandon: () => verdicts.faults.length > 0,
    progress: { count: () => view.totalRuns(), stallMs: DRAIN_STALL_MS },
  });
  await settleBh(machine, () => verdicts.faults.length > 0);
  if (ctx.options.oracles && verdicts.faults.length === 0) {
    checkDrained(ctx, drained.status === 'idle');
    const bh = verdicts.violations.length === 0 ? checkBhDrained(machine) : null;
    if (bh !== null) verdicts.violation(bh);
    const lists =
      drained.status === 'idle' && verdicts.violations.length === 0
        ? await listsViolation(view, machine.memory, workload.names, machine)
        : null;
    if (lists !== null) verdicts.violation(lists);
  }
  workload.setPhase(Phase.Run);
}

/** The drain-time oracles; `idle`: the machine drained (else its queues are reported). */
function checkDrained({ view, workload, verdicts, machine }: StressContext, idle: boolean): void {
  const ids = workload.ids();
  // First the disable counts: a lost update leaves a tasklet that never runs, which the other
  // checks would report as a lost run.
  const lost = workload.countOffBounds(view);
  if (lost !== null && verdicts.violations.length === 0) verdicts.violation(lost);
  const found =
    verdicts.violations.length === 0
      ? first_drain_violation(workload.sh, ids.length, (i) => view.taskletState(ids[i]))
      : null;
  if (found !== null)
    verdicts.violation({
      ...found.violation,
      message: `${found.violation.message}; ${describeWhere(view, ids[found.index])}`,
    });
  // The "SCHED state not set" warnings the workload provoked on purpose (G12) are no finding.
  const warnings = check_warnings(view.warnings() - Atomics.load(workload.sh, S_G12_WARNED));
  if (warnings !== null && verdicts.violations.length === 0) verdicts.violation(warnings);
  if (!idle && verdicts.violations.length === 0) {
    const queued = view.cpusWithQueued(machine.onlineCpus());
    verdicts.violation(
      violation('structure', -1, queued, `queues of CPU ${queued.join(', ')} never emptied after the drain`),
    );
  }
}

/** Polls `done` each millisecond of machine time; false on a fault, or at the timeout (after `onTimeout`). */
async function waitFor(
  { machine, verdicts }: StressContext,
  done: () => boolean,
  timeoutMs: number,
  onTimeout: () => void,
): Promise<boolean> {
  const deadline = machine.now() + timeoutMs;
  while (!done()) {
    if (verdicts.faults.length > 0) return false;
    if (machine.now() > deadline) {
      onTimeout();
      return false;
    }
    await machine.sleep(1);
  }
  return true;
}
