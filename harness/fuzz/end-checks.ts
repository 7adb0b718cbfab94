/**
 * The oracles at the end of a program, the machine drained: the shared drain-time checks and
 * what the program implies (run counts), per tasklet; then the kernel warnings it caused.
 */
import { check_warnings, first_drain_violation } from '../oracles/drain-checks.ts';
import { recent_events } from '../oracles/shadow.ts';
import { expectedRuns } from './expect.ts';
import { W_ORPHANS } from './layout.ts';
import { at_program_end, type FuzzViolation, merge_kill_coverage } from './oracles.ts';
import { type ProgramRun, programIds } from './program-run.ts';

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
  // Tasklets the program orphaned on purpose (G12) warn "SCHED state not set" (once a boot).
  const warned = Atomics.load(words, W_ORPHANS) > 0 ? null : check_warnings(view.warnings() - warningsBefore);
  if (warned !== null) return { ...warned, message: `${warned.message}: ${run.reports.lastWarning}` };
  return null;
}
