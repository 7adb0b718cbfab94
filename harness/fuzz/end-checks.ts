/**
 * The oracles at the end of a program, the machine drained: the shared drain-time checks and
 * what the program implies (run counts), per tasklet; then the kernel warnings it caused.
 */
import { check_warnings, first_drain_violation } from '../oracles/drain-checks.ts';
import { violation } from '../oracles/guarantees.ts';
import { recent_events } from '../oracles/shadow.ts';
import { expectedRuns } from './expect.ts';
import { W_ORPHANS } from './layout.ts';
import { at_program_end, type FuzzViolation, merge_kill_coverage } from './oracles.ts';
import { type ProgramRun, programIds } from './program-run.ts';

/**
 * G8's "n disables need n enables", from the other side: normalize.ts matches every disable of
 * a program with a later enable on the same CPU, so once the program is over each tasklet's
 * disable count is back at 0. One that is not lost an update (a disable and an enable, or two
 * disables, that raced a read-modify-write of the count). Also asked when the drain does not
 * end: a count left off 0 keeps the tasklet requeued by every pass, never run.
 */
export function unbalancedCount({ view }: ProgramRun, ids: number[]): FuzzViolation | null {
  for (const [i, id] of ids.entries()) {
    const { count } = view.tasklet(id);
    if (count === 0) continue;
    return violation(
      'disabled',
      i,
      [],
      `t${i}'s disable count is ${count} after the program, though each of its disables was matched by an enable: an update of the count was lost`,
    );
  }
  return null;
}

export function endChecks(run: ProgramRun, warningsBefore: number): FuzzViolation | null {
  const { view, sh, words, program } = run;
  const ids = programIds(run);
  // What kills covered counts as covered, before the checks.
  for (let i = 0; i < ids.length; i++) merge_kill_coverage(sh, words, i);
  const found = first_drain_violation<FuzzViolation>(
    sh,
    ids.length,
    (i) => view.taskletState(ids[i]),
    (i) => at_program_end(sh, i, expectedRuns(program, i)),
  );
  if (found !== null) return { ...found.violation, events: recent_events(sh, found.index) };
  const unbalanced = unbalancedCount(run, ids);
  if (unbalanced !== null) return { ...unbalanced, events: recent_events(sh, unbalanced.tasklet) };
  // Tasklets the program orphaned on purpose (G12) warn "SCHED state not set" (once a boot).
  const warned = Atomics.load(words, W_ORPHANS) > 0 ? null : check_warnings(view.warnings() - warningsBefore);
  if (warned !== null) return { ...warned, message: `${warned.message}: ${run.reports.lastWarning}` };
  return null;
}
