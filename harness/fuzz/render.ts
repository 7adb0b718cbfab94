/** A readable rendition of a program: its tasklets, then one numbered column per CPU. */
import { NR_TIMERS, NR_WORKS, TIMER_BUSY_US, timerOwner, WORK_BUSY_US, workName } from './bh-layout.ts';
import {
  flatten,
  isBhOp,
  isSection,
  type Op,
  type Program,
  SPINNER_RESCHED,
  type TaskletSpec,
} from './program.ts';

function describeTasklet(spec: TaskletSpec, t: number): string {
  const use =
    spec.mode === 'private'
      ? `private to CPU${spec.owner}`
      : spec.mode === 'shared-kill'
        ? 'shared, killed (never disabled)'
        : 'shared, disabled (never killed)';
  const extras = [
    spec.busyUs > 0 ? `callback busy ${spec.busyUs}us` : '',
    spec.resched > 0 ? `reschedules itself ${spec.resched}x${spec.reschedHi ? ' (hi)' : ''}` : '',
  ].filter(Boolean);
  return `t${t}: ${use}${extras.length > 0 ? `; ${extras.join(', ')}` : ''}`;
}

export function describeOp(op: Op, cpu: number): string {
  switch (op.op) {
    case 'irq': {
      const when = op.cpu === cpu && op.at > 1 ? ` (at access ${op.at} of the next op)` : '';
      return `irq CPU${op.cpu} -> ${op.hi ? 'hi_schedule' : 'schedule'} t${op.t}${when}`;
    }
    case 'delay':
      return `delay ${op.us}us`;
    case 'race':
      return '-- race: waits for every CPU --';
    case 'hotplug':
      return `hotplug CPU${op.cpu} off+on`;
    case 'orphan': {
      const schedule = op.hi ? 'tasklet_hi_schedule' : 'tasklet_schedule';
      return `irqs off: ${schedule} t${op.t}, tasklet_setup t${op.t} (queued without SCHED), ${schedule} t${op.probe}`;
    }
    case 'pace':
      return `${op.hi ? 'tasklet_hi_schedule' : 'tasklet_schedule'} t${op.t} (a pacer: re-queues itself ${SPINNER_RESCHED}x)`;
    case 'irqsave':
    case 'bh':
      return `${op.op === 'irqsave' ? 'local_irq_save' : 'local_bh_disable'} {`;
    case 'irq_bh': {
      const when = op.cpu === cpu && op.at > 1 ? ` (at access ${op.at} of the next op)` : '';
      return `irq CPU${op.cpu} -> ${op.call} ${op.call === 'queue_work' ? 'w' : 'x'}${op.n}${when}`;
    }
    case 'queue_work_on':
      return `queue_work_on CPU${op.cpu} w${op.w}`;
    case 'mod_timer':
      return `mod_timer x${op.x} +${op.ticks}${op.rearm > 0 ? ` (re-arms ${op.rearm}x)` : ''}`;
    case 'mod_timer_pending':
      return `mod_timer_pending x${op.x} +${op.ticks}`;
    case 'add_timer_on':
      return `del_timer_sync+add_timer_on CPU${op.cpu} x${op.x} +${op.ticks}`;
    default:
      return 'w' in op ? `${op.op} w${op.w}` : 'x' in op ? `${op.op} x${op.x}` : `${op.op} t${op.t}`;
  }
}

function lines(ops: Op[], cpu: number): string[] {
  return ops.flatMap((op) =>
    isSection(op)
      ? [describeOp(op, cpu), ...op.body.map((o) => `  ${describeOp(o, cpu)}`), '}']
      : [describeOp(op, cpu)],
  );
}

/** The fixed work items and timers, when the program uses any. */
function bhLegend(program: Program): string[] {
  if (!program.threads.flatMap(flatten).some(isBhOp)) return [];
  return [
    `  ${Array.from({ length: NR_WORKS }, (_, w) => `${workName(w)}${WORK_BUSY_US[w] > 0 ? ` busy ${WORK_BUSY_US[w]}us` : ''}`).join('; ')}`,
    `  ${Array.from({ length: NR_TIMERS }, (_, x) => `x${x}: ${timerOwner(x) < 0 ? 'shared' : `private to CPU${timerOwner(x)}`}${TIMER_BUSY_US[x] > 0 ? `, busy ${TIMER_BUSY_US[x]}us` : ''}`).join('; ')} (+N: jiffies ahead)`,
  ];
}

export function renderProgram(program: Program): string {
  const out = [...program.tasklets.map((spec, t) => `  ${describeTasklet(spec, t)}`), ...bhLegend(program)];
  const columns = program.threads.map((ops, cpu) => lines(ops, cpu));
  const width = Math.max(24, ...columns.flat().map((l) => l.length + 2));
  const height = Math.max(0, ...columns.map((c) => c.length));
  out.push(`  ${'#'.padStart(3)}  ${columns.map((_, cpu) => `CPU${cpu}`.padEnd(width)).join('')}`.trimEnd());
  for (let row = 0; row < height; row++) {
    const cells = columns.map((c) => (c[row] ?? '').padEnd(width)).join('');
    out.push(`  ${String(row + 1).padStart(3)}  ${cells}`.trimEnd());
  }
  return out.join('\n');
}
