#!/usr/bin/env node
// Broken variants of the runtime's own source, not the harness's mutants: each is a small edit to
// kernel/*.ts, made in a scratch clone of this checkout's HEAD, then run through stress, fuzz and
// controlled fuzz with their defaults. It measures whether the tool finds bugs nobody planted a
// swap point for. `node tools/source-variants.mjs --help`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';

const root = new URL('..', import.meta.url).pathname;

/** name → [file, what the edit breaks, [from, to] pairs]. Each `from` must occur in the file. */
const VARIANTS = {
  'requeue-no-raise': [
    'kernel/tasklet.ts',
    'requeue puts a busy or disabled tasklet back without raising its softirq',
    [
      [
        '  queue_append(this_cpu.base, queue, t);\n  __raise_softirq_irqoff(queue.softirq);',
        '  queue_append(this_cpu.base, queue, t);',
      ],
    ],
  ],
  'unlock-no-wake': [
    'kernel/tasklet.ts',
    'tasklet_unlock clears RUN without wake_up_var',
    [
      [
        '  clear_bit(TASKLET_STATE_RUN, t.addr + T_STATE);\n  wake_up_var(t);',
        '  clear_bit(TASKLET_STATE_RUN, t.addr + T_STATE);',
      ],
    ],
  ],
  'clear-sched-no-wake': [
    'kernel/tasklet.ts',
    'tasklet_clear_sched clears SCHED without wake_up_var (a second tasklet_kill sleeps forever)',
    [['SCHED, t.addr + T_STATE)) {\n    wake_up_var(t);', 'SCHED, t.addr + T_STATE)) {']],
  ],
  'next-after-run': [
    'kernel/tasklet.ts',
    'tasklet_action reads t->next after SCHED is cleared (another CPU may queue it meanwhile)',
    [
      [
        '    list = local_read(t.addr + T_NEXT);\n    if (tasklet_trylock(t)) {',
        '    if (tasklet_trylock(t)) {',
      ],
      [
        '        tasklet_unlock(t);\n        continue;',
        '        tasklet_unlock(t);\n        list = local_read(t.addr + T_NEXT);\n        continue;',
      ],
      ['    requeue(t, queue);\n  }', '    list = local_read(t.addr + T_NEXT);\n    requeue(t, queue);\n  }'],
    ],
  ],
  'kill-no-clear': [
    'kernel/tasklet.ts',
    'tasklet_kill leaves SCHED set at the end',
    [
      [
        '  taskletOps.unlock_wait(t, mayBlock);\n  tasklet_clear_sched(t);',
        '  taskletOps.unlock_wait(t, mayBlock);',
      ],
    ],
  ],
  'hi-raises-normal': [
    'kernel/tasklet.ts',
    'tasklet_hi_schedule raises TASKLET_SOFTIRQ',
    [
      [
        '{ head: C_HI_HEAD, softirq: HI_SOFTIRQ, hi: true }',
        '{ head: C_HI_HEAD, softirq: TASKLET_SOFTIRQ, hi: true }',
      ],
    ],
  ],
  'disable-atomic-no-spin': [
    'kernel/tasklet.ts',
    'tasklet_disable_in_atomic does not wait for a run in progress',
    [
      [
        '  tasklet_disable_nosync(t);\n  spin_until_clear(t, TASKLET_STATE_RUN);',
        '  tasklet_disable_nosync(t);',
      ],
    ],
  ],
  'unlock-wait-wrong-bit': [
    'kernel/tasklet.ts',
    'tasklet_unlock_wait waits for SCHED instead of RUN',
    [
      [
        'sleep_until_clear(t, TASKLET_STATE_RUN, WaitKind.TaskletRunClear',
        'sleep_until_clear(t, TASKLET_STATE_SCHED, WaitKind.TaskletRunClear',
      ],
    ],
  ],
  'pending-cleared-late': [
    'kernel/softirq.ts',
    'handle_softirqs clears the pending word after the actions (raises made meanwhile are lost)',
    [
      ['    local_write(pendingWord(), 0);\n    local_irq_enable();', '    local_irq_enable();'],
      [
        '    local_irq_disable();\n    pending = local_softirq_pending();',
        '    local_irq_disable();\n    local_write(pendingWord(), 0);\n    pending = local_softirq_pending();',
      ],
    ],
  ],
  'raise-no-ksoftirqd': [
    'kernel/softirq.ts',
    'raise_softirq_irqoff wakes ksoftirqd in interrupt context instead of outside it',
    [['  if (!in_interrupt()) wakeup_softirqd();', '  if (in_interrupt()) wakeup_softirqd();']],
  ],
  'takeover-hi-lost': [
    'kernel/hotplug.ts',
    "takeover_tasklets adopts the dead CPU's tasklet_vec only",
    [
      [
        '    [C_VEC_HEAD, TASKLET_SOFTIRQ],\n    [C_HI_HEAD, HI_SOFTIRQ],\n',
        '    [C_VEC_HEAD, TASKLET_SOFTIRQ],\n',
      ],
    ],
  ],
  'takeover-no-raise': [
    'kernel/hotplug.ts',
    'takeover_tasklets adopts the queues but raises nothing',
    [
      [
        '      hotplugOps.reset_dead_queue(deadHead);\n    }\n    raise_softirq_irqoff(softirq);',
        '      hotplugOps.reset_dead_queue(deadHead);\n    }',
      ],
    ],
  ],
};

const MODES = {
  stress: (d) => ['stress', '--duration', d, '--seed', '1', '--quiet', '--no-hunt'],
  fuzz: (d) => ['fuzz', '--duration', d, '--seed', '1', '--quiet', '--shrink', '5s'],
  controlled: (d) => ['fuzz', '--controlled', '--duration', d, '--seed', '1', '--quiet', '--shrink', '5s'],
};

const usage = `usage: node tools/source-variants.mjs [--only a,b] [--modes stress,fuzz,controlled] [--duration 20s] [--rev COMMIT] [--list]
Edits this checkout's HEAD (or COMMIT) in a scratch clone per variant and reports what stress and fuzz find.`;

function fail(message) {
  console.error(`source-variants: ${message}`);
  process.exit(2);
}

function options() {
  try {
    const { values } = parseArgs({
      options: {
        only: { type: 'string' },
        modes: { type: 'string', default: Object.keys(MODES).join(',') },
        duration: { type: 'string', default: '20s' },
        rev: { type: 'string' },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    return values;
  } catch (error) {
    fail(error.message);
  }
}

function run(cwd, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['cli/bin.mjs', ...args], { cwd });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** What a run found: the exit status in words, and the oracle of the first finding. */
function verdict({ code, out }) {
  const found = out.split('\n').find((l) => /^(VIOLATION|FAULT|KERNEL REPORT)\b/.test(l)) ?? '';
  const after = /found after ([\d.]+s)/.exec(out)?.[1] ?? /\) at ([\d.]+s):/.exec(found)?.[1];
  const status =
    code === 0 ? 'missed' : code === 1 || code === 3 ? `found${after ? ` (${after})` : ''}` : `exit ${code}`;
  const guarantee = /^VIOLATION of guarantee (\w+) \(([^)]+)\)/.exec(found);
  const oracle = /^(?:VIOLATION|KERNEL REPORT) \(([^)]+)\)/.exec(found);
  const fault = /^FAULT: (\w+)/.exec(found);
  const by = guarantee
    ? `${/^\d/.test(guarantee[1]) ? 'G' : ''}${guarantee[1]} ${guarantee[2]}`
    : oracle?.[1];
  return { status, by: by ?? (fault ? `fault (${fault[1]})` : '') };
}

function clone(name, file, edits, rev) {
  const dir = mkdtempSync(join(tmpdir(), `tasklet-rt-variant-${name}-`));
  execFileSync('git', ['clone', '-q', root, dir]);
  if (rev) {
    try {
      execFileSync('git', ['-C', dir, 'checkout', '-q', rev], { stdio: 'ignore' });
    } catch {
      rmSync(dir, { recursive: true, force: true });
      fail(`--rev ${rev}: not a commit of this repository`);
    }
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  let source = readFileSync(join(dir, file), 'utf8');
  for (const [from, to] of edits) {
    if (!source.includes(from)) {
      rmSync(dir, { recursive: true, force: true });
      fail(`variant '${name}': its edit no longer matches ${file} (the source changed: update the variant)`);
    }
    source = source.replace(from, to);
  }
  writeFileSync(join(dir, file), source);
  return dir;
}

const opts = options();
if (opts.help) {
  console.log(usage);
  process.exit(0);
}
if (opts.list) {
  for (const [name, [file, what]] of Object.entries(VARIANTS))
    console.log(`${name.padEnd(24)} ${file}: ${what}`);
  process.exit(0);
}
const names = opts.only ? opts.only.split(',') : Object.keys(VARIANTS);
for (const name of names) if (!(name in VARIANTS)) fail(`unknown variant '${name}' (see --list)`);
const modes = opts.modes.split(',');
for (const mode of modes) if (!(mode in MODES)) fail(`unknown mode '${mode}' (stress, fuzz, controlled)`);

const table = new Table({ head: ['variant', ...modes, 'first found by'], style: { head: [], border: [] } });
let missed = 0;
for (const name of names) {
  const [file, , edits] = VARIANTS[name];
  const dir = clone(name, file, edits, opts.rev);
  const row = [name];
  let first = '';
  for (const mode of modes) {
    const result = verdict(await run(dir, MODES[mode](opts.duration)));
    row.push(result.status);
    if (result.status === 'missed') missed++;
    first ||= result.by;
    console.error(`${name} ${mode}: ${result.status}`);
  }
  table.push([...row, first]);
  rmSync(dir, { recursive: true, force: true });
}
console.log(table.toString());
const at =
  opts.rev ?? execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
console.log(
  `${missed} of ${names.length * modes.length} runs missed their variant (${at}, --duration ${opts.duration}, seed 1)`,
);
