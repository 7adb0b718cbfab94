/** What `stress MODULE` prints and writes: the stress report's format, with the module's own counts. */
import { ORACLES, type OracleName } from '../oracles/guarantees.ts';
import { compact, describeViolation, scheduleLines, totalsTable } from '../stress/report.ts';
import { wrapText } from '../text/layout.ts';
import type { ModuleStressResult } from './stress.ts';

/** The oracles a module's run judges (the mechanism's guarantees, whatever the callbacks do). */
export const MODULE_ORACLES: OracleName[] = [
  'mutual-exclusion',
  'at-least-once',
  'locality',
  'one-run-per-pass',
  'disabled',
  'disable-waits',
  'kill',
  'structure',
  'pass-bounds',
  'context',
  'kernel-report',
];

const label = (name: OracleName): string => `${ORACLES[name] > 0 ? `G${ORACLES[name]} ` : ''}${name}`;

export function moduleReport(result: ModuleStressResult): string {
  const { options, stimulus } = result;
  const lines: string[] = [];
  const controlled = options.controlled === undefined ? '' : `, controlled (${options.controlled.strategy})`;
  lines.push(
    `tasklet-rt stress ${options.display ?? options.file}: module ${stimulus?.module ?? '?'}, ${options.cpus} CPUs, ${(result.elapsedMs / 1000).toFixed(1)}s, seed ${options.seed}${controlled}`,
    ...wrapText(
      `stimulus: ${stimulus?.lines.map((l) => `irq ${l.irq} at ${l.rate}/s`).join(', ') || 'no interrupts'}; tasks ${stimulus?.tasks.map((t) => `${t.name}=${t.weight}`).join(',') || 'none'}; lifecycle ${stimulus?.lifecycle ? 'remove → probe' : 'off'}; hotplug ${options.hotplugMs > 0 && options.cpus > 1 ? `every ${options.hotplugMs} ms (${result.hotplugOps} ops)` : 'off'}; --warn ${options.warn}`,
    ),
    '',
    `  tasklet runs: ${result.tasklets.map((t) => `${t.name} ${t.runs}`).join(', ') || 'no tasklet seen'}`,
    `  interrupts raised: ${result.irqs.map((i) => `${i.irq} (${i.name}) ${i.raised}`).join(', ') || 'none'}`,
    `  tasks started: ${result.starts.map((s) => `${s.name} ${s.count}`).join(', ') || 'none'}`,
    `  remove → probe cycles: ${result.lifecycleCycles}; ${result.epochs} drain checks${stimulus?.invariants.length ? ` with invariants ${stimulus.invariants.join(', ')}` : ''}; boot ${result.bootMs.toFixed(0)} ms`,
  );
  if (result.untracked > 0)
    lines.push(`  ${result.untracked} events of tasklets with ids past the shadow's size went unjudged`);
  lines.push('', ...totalsTable(result.totals));
  if (result.schedule !== null) lines.push(...scheduleLines(result.schedule, options.cpus));
  lines.push('', ...verdictLines(result));
  for (const fault of result.faults) lines.push(`FAULT: ${fault}`);
  if (result.continued.length > 0) {
    lines.push(
      `kernel reports (--warn continue): ${result.continued.length}; the first:`,
      `  ${result.continued[0]}`,
    );
  }
  if (result.violations.length > 0)
    lines.push(describeViolation(result.violations[0], result.schedule !== null));
  const again = reproCommand(result);
  if (again !== null) lines.push(`repro (controlled: the same run, exactly): ${again}`);
  lines.push(`result: ${verdict(result)}`);
  return lines.join('\n');
}

/** A controlled run's finding: the command line that runs it again, decision for decision. */
export function reproCommand(result: ModuleStressResult): string | null {
  const { options: o } = result;
  const c = o.controlled;
  if (c === undefined || result.status !== 'violation') return null;
  const words = ['tasklet-rt stress', o.display ?? o.file, `--cpus ${o.cpus}`, `--seed ${o.seed}`];
  words.push(`--duration ${o.durationMs}ms`, '--controlled', `--strategy ${c.strategy}`);
  if (c.depth !== undefined) words.push(`--depth ${c.depth}`);
  if (c.quantum !== undefined) words.push(`--quantum ${c.quantum}`);
  words.push(o.hotplugMs > 0 ? `--hotplug ${o.hotplugMs}ms` : '--no-hotplug');
  if (o.stepLimit !== undefined) words.push(`--steps ${o.stepLimit}`);
  for (const [key, value] of Object.entries(o.params ?? {})) words.push(`--param ${key}=${value}`);
  if (o.warn === 'continue') words.push('--warn continue');
  return words.join(' ');
}

/** One verdict per oracle: ok, FAIL (it fired), or not reached (the run ended on a fault). */
function verdictLines(result: ModuleStressResult): string[] {
  const judged = result.faults.length === 0;
  const marks = MODULE_ORACLES.map((name) => {
    const fired = result.violations.some((v) => v.oracle === name && !v.name.startsWith('invariant '));
    return `${label(name)} ${fired ? 'FAIL' : judged ? 'ok' : '-'}`;
  });
  const invariantFailed = result.violations.some((v) => v.name.startsWith('invariant '));
  if ((result.stimulus?.invariants.length ?? 0) > 0)
    marks.push(`invariants ${invariantFailed ? 'FAIL' : judged ? 'ok' : '-'}`);
  return wrapText(`oracles: ${marks.join(', ')}`);
}

export function verdict(result: ModuleStressResult): string {
  switch (result.status) {
    case 'clean':
      return `CLEAN - no findings (${compact(result.tasklets.reduce((s, t) => s + t.runs, 0))} tasklet runs judged)`;
    case 'violation':
      return `FOUND (${result.violations.length} reported; the first is shown)`;
    case 'fault':
      return 'FAULT - the machine failed or hung (see above)';
    case 'interrupted':
      return 'INTERRUPTED - partial run, no findings so far';
  }
}

export function moduleJson(result: ModuleStressResult, exactRepro: object | null = null): string {
  return `${JSON.stringify(
    {
      tool: 'tasklet-rt stress (module)',
      status: result.status,
      seed: result.options.seed,
      options: result.options,
      stimulus: result.stimulus,
      elapsedMs: Math.round(result.elapsedMs),
      bootMs: Math.round(result.bootMs),
      epochs: result.epochs,
      hotplugOps: result.hotplugOps,
      lifecycleCycles: result.lifecycleCycles,
      tasklets: result.tasklets,
      irqs: result.irqs,
      starts: result.starts,
      totals: result.totals,
      schedule: result.schedule,
      violations: result.violations,
      faults: result.faults,
      continued: result.continued,
      ...(exactRepro === null ? {} : { exactRepro }),
    },
    null,
    2,
  )}\n`;
}
