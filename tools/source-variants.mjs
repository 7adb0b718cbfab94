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
  'trylock-not-atomic': [
    'kernel/tasklet.ts',
    'tasklet_trylock tests RUN, then sets it (two CPUs can both take it)',
    [
      ['  clear_bit,\n', '  clear_bit,\n  set_bit,\n  test_bit,\n'],
      [
        '  return !test_and_set_bit(TASKLET_STATE_RUN, t.addr + T_STATE);',
        '  if (test_bit(TASKLET_STATE_RUN, t.addr + T_STATE)) return false;\n  set_bit(TASKLET_STATE_RUN, t.addr + T_STATE);\n  return true;',
      ],
    ],
  ],
  'enable-not-atomic': [
    'kernel/tasklet.ts',
    'tasklet_enable lowers the disable count by a read and a write (racing enables lose one)',
    [
      [
        '    atomic_dec_return(t.addr + T_COUNT) < 0,',
        '    (atomic_set(t.addr + T_COUNT, atomic_read(t.addr + T_COUNT) - 1), atomic_read(t.addr + T_COUNT)) < 0,',
      ],
    ],
  ],
  'kill-no-unlock-wait': [
    'kernel/tasklet.ts',
    'tasklet_kill takes SCHED but does not wait for a run in progress',
    [['  taskletOps.unlock_wait(t, mayBlock);\n  tasklet_clear_sched(t);', '  tasklet_clear_sched(t);']],
  ],
  'disabled-keeps-run': [
    'kernel/tasklet.ts',
    'tasklet_action requeues a disabled tasklet without dropping RUN',
    [['        continue;\n      }\n      tasklet_unlock(t);\n    }', '        continue;\n      }\n    }']],
  ],
  'bh-enable-no-run': [
    'kernel/softirq.ts',
    'local_bh_enable does not run the softirqs raised while bh was disabled',
    [
      [
        '  if (!in_interrupt() && local_softirq_pending() !== 0) do_softirq();\n  preempt_count_sub(PREEMPT_OFFSET);',
        '  preempt_count_sub(PREEMPT_OFFSET);',
      ],
    ],
  ],
  'irq-exit-no-softirq': [
    'kernel/softirq.ts',
    'irq_exit does not run the pending softirqs',
    [
      [
        '  preempt_count_sub(HARDIRQ_OFFSET);\n  if (!in_interrupt() && local_softirq_pending() !== 0) handle_softirqs(false);',
        '  preempt_count_sub(HARDIRQ_OFFSET);',
      ],
    ],
  ],
  'irq-restore-enables': [
    'kernel/irqflags.ts',
    'local_irq_restore enables interrupts whatever the saved flags say',
    [['  if (flags === 0) local_irq_enable();\n  else setIrqsOff(true);', '  local_irq_enable();']],
  ],
  'wait-not-queued': [
    'kernel/wait.ts',
    'a sleeping tasklet wait never puts itself on the waiter mask (wake_up_var misses it)',
    [['  raw_or(waiters, me);\n  publishWait(kind, t);', '  publishWait(kind, t);']],
  ],
  'timer-running-cleared-early': [
    'kernel/timer.ts',
    'expire_timers clears the running timer before the callback, not after it',
    [
      [
        '  timerOps.detach(t);\n  base_unlock(cpu, flags);\n  call_timer_fn(t, now);\n  const again = base_lock(cpu);\n  WRITE_ONCE(base + C_RUNNING_TIMER, 0);',
        '  timerOps.detach(t);\n  WRITE_ONCE(base + C_RUNNING_TIMER, 0);\n  base_unlock(cpu, flags);\n  call_timer_fn(t, now);\n  const again = base_lock(cpu);',
      ],
    ],
  ],
  'timer-base-no-recheck': [
    'kernel/timer.ts',
    'lock_timer_base does not check that the timer stayed on the base it locked',
    [
      [
        '      if (READ_ONCE(t.addr + TM_CPU) === cpu) return { cpu, flags };\n      base_unlock(cpu, flags);',
        '      return { cpu, flags };',
      ],
    ],
  ],
  'work-pending-cleared-late': [
    'kernel/workqueue.ts',
    'process_one_work clears PENDING after the function, not before (a queue_work meanwhile is lost)',
    [
      [
        '  claim_work(pool, w);\n  test_and_clear_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE);\n',
        '  claim_work(pool, w);\n',
      ],
      [
        '  atomic_inc(w.addr + WK_FINISHED);\n',
        '  atomic_inc(w.addr + WK_FINISHED);\n  test_and_clear_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE);\n',
      ],
    ],
  ],
  'work-current-cleared-early': [
    'kernel/workqueue.ts',
    "process_one_work clears the pool's current work before the function, not after it",
    [
      [
        '  test_and_clear_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE);\n  pool_unlock(pool >> 1, flags);',
        '  test_and_clear_bit(WORK_STRUCT_PENDING, w.addr + WK_STATE);\n  WRITE_ONCE(poolCurrent(pool), 0);\n  pool_unlock(pool >> 1, flags);',
      ],
      [
        '  const again = pool_lock(pool >> 1);\n  WRITE_ONCE(poolCurrent(pool), 0);',
        '  const again = pool_lock(pool >> 1);',
      ],
    ],
  ],
  'cancel-no-unlink': [
    'kernel/workqueue.ts',
    'try_to_grab_pending takes PENDING but leaves the work on its worklist',
    [
      [
        '      const found = READ_ONCE(w.addr + WK_POOL) === pool && unlink(pool, w);',
        '      const found = READ_ONCE(w.addr + WK_POOL) === pool;',
      ],
    ],
  ],
  'hi-work-kick-normal': [
    'kernel/workqueue.ts',
    "a remote kick raises TASKLET_SOFTIRQ for the highpri pool's work",
    [
      [
        '  if (raw_load(base + C_BH_HI_HEAD) !== 0) __raise_softirq_irqoff(HI_SOFTIRQ);',
        '  if (raw_load(base + C_BH_HI_HEAD) !== 0) __raise_softirq_irqoff(TASKLET_SOFTIRQ);',
      ],
    ],
  ],
};

const MODES = {
  stress: (d) => ['stress', '--duration', d, '--seed', '1', '--quiet', '--no-hunt'],
  fuzz: (d) => ['fuzz', '--duration', d, '--seed', '1', '--quiet', '--shrink', '5s'],
  controlled: (d) => ['fuzz', '--controlled', '--duration', d, '--seed', '1', '--quiet', '--shrink', '5s'],
};

const usage = `usage: node tools/source-variants.mjs [--only a,b] [--modes stress,fuzz,controlled] [--duration 20s] [--rev COMMIT] [--list | --check]
Edits this checkout's HEAD (or COMMIT) in a scratch clone per variant and reports what stress and fuzz find.
--check: only says whether every edit still matches this checkout's source exactly once (exit 1 if not).`;

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
        check: { type: 'boolean', default: false },
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

const occurrences = (source, text) => source.split(text).length - 1;

/** The variants whose edits do not each match their file exactly once, with what is wrong. */
function staleVariants() {
  const stale = [];
  for (const [name, [file, , edits]] of Object.entries(VARIANTS)) {
    const source = readFileSync(join(root, file), 'utf8');
    edits.forEach(([from], k) => {
      const n = occurrences(source, from);
      if (n !== 1) stale.push(`${name}: edit ${k + 1} matches ${file} ${n} times`);
    });
  }
  return stale;
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
    if (occurrences(source, from) !== 1) {
      rmSync(dir, { recursive: true, force: true });
      fail(
        `variant '${name}': its edit no longer matches ${file} once (the source changed: update the variant)`,
      );
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
    console.log(`${name.padEnd(28)} ${file}: ${what}`);
  process.exit(0);
}
if (opts.check) {
  const stale = staleVariants();
  for (const line of stale) console.error(`source-variants: ${line}`);
  console.log(
    `${Object.keys(VARIANTS).length - new Set(stale.map((l) => l.split(':')[0])).size} of ${Object.keys(VARIANTS).length} variants match the source`,
  );
  process.exit(stale.length === 0 ? 0 : 1);
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
