/**
 * KCSAN and KASAN on module data and tasklets (kernel/kcsan.ts, kernel/kasan.ts): each planted
 * bug is reported in the kernel's shape, once, and its correct twin stays silent. One machine per
 * describe: every planted bug has its own report title, so the cases do not mask each other.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../machine/index.ts';
import { until } from './helpers.ts';

const sanitizersModule = fileURLToPath(new URL('./modules/sanitizers.ts', import.meta.url));

function harness() {
  const log: { cpu: number; text: string }[] = [];
  const state: { m: Machine | null } = { m: null };
  beforeAll(async () => {
    state.m = await Machine.boot({
      cpus: 2,
      modules: [sanitizersModule],
      onPrintk: (cpu, _level, text) => log.push({ cpu, text }),
    });
  });
  afterAll(async () => {
    await state.m?.shutdown();
  });
  const lines = (re: RegExp) => log.filter((l) => re.test(l.text)).map((l) => l.text);
  /** Runs the tasks to their ends, one per CPU, at once. */
  const race = async (...tasks: string[]) => {
    await Promise.all(tasks.map((name, cpu) => state.m!.runTask(cpu, name)));
  };
  return { state, lines, race };
}

describe('KCSAN', () => {
  const { lines, race } = harness();

  it('a plain write and a plain read of a word on two CPUs, no lock: a data-race report with both sides', async () => {
    for (let round = 0; round < 20 && lines(/KCSAN/).length === 0; round++)
      await race('plainWriter', 'plainReader');
    const reports = lines(/BUG: KCSAN: data-race in plain_reader \/ plain_writer/);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      /^=+\nBUG: KCSAN: data-race in plain_reader \/ plain_writer\n\n(read|write) to 0xffff8880[0-9a-f]{8} of 4 bytes by task \d+ on cpu [01]:\n plain_(reader|writer) \(test\/modules\/sanitizers\.ts:\d+\)\n[\s\S]*\n\n(read|write) to 0xffff8880[0-9a-f]{8} of 4 bytes by task \d+ on cpu [01]:\n plain_(reader|writer) \(test\/modules\/sanitizers\.ts:\d+\)\n[\s\S]*Reported by Kernel Concurrency Sanitizer on:\nCPU: [01] PID: \d+ Comm: \S+\n=+$/,
    );
    expect(reports[0]).toContain('write to');
    expect(reports[0]).toContain('read to');
  });

  it('a plain write and a plain read by a task and an interrupt on the same CPU: reported', async () => {
    for (let round = 0; round < 20 && lines(/taskVsIrq|sanitizers_interrupt/).length === 0; round++)
      await race('taskVsIrq');
    const reports = lines(/BUG: KCSAN: data-race in sanitizers_interrupt \/ taskVsIrq/);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/by interrupt on cpu 0:\n sanitizers_interrupt/);
    expect(reports[0]).toMatch(/by task \d+ on cpu 0:\n taskVsIrq/);
  });

  it('silent when both sides hold the same lock, or either side is marked (READ_ONCE, WRITE_ONCE, atomic_t)', async () => {
    for (let round = 0; round < 3; round++) {
      await race('lockedWriter', 'lockedWriter');
      await race('markedWriter', 'markedReader');
      await race('taskVsIrqMarked');
    }
    expect(lines(/locked_writer|marked_writer|marked_reader|taskVsIrqMarked/)).toEqual([]);
  });
});

describe('KASAN', () => {
  const { state, lines } = harness();
  const report = async (title: RegExp) => {
    await until(`${title}`, () => lines(title).length > 0);
    return lines(title)[0];
  };

  it('a freed object read and written: use-after-free, with the access and the allocation and free sites', async () => {
    await state.m!.runTask(0, 'objectUseAfterFree');
    const text = await report(/BUG: KASAN: use-after-free in objectUseAfterFree/);
    expect(text).toMatch(
      /^=+\nBUG: KASAN: use-after-free in objectUseAfterFree\nRead of size 4 at addr ffff8880[0-9a-f]{8} by task objectUseAfterFree\/\d+\n\nCPU: 0 PID: \d+ Comm: objectUseAfterFree\nCall Trace:\n objectUseAfterFree \(test\/modules\/sanitizers\.ts:\d+\)\n[\s\S]*\nAllocated by task \d+ on cpu 0:\n objectUseAfterFree \(test\/modules\/sanitizers\.ts:\d+\)\n[\s\S]*\nFreed by task \d+ on cpu 0:\n objectUseAfterFree \(test\/modules\/sanitizers\.ts:\d+\)\n[\s\S]*The buggy address belongs to the object at ffff8880[0-9a-f]{8}\n which belongs to the cache sanitizers_dev of size 8\nThe buggy address is located 0 bytes inside of\n 8-byte region/,
    );
    expect(lines(/use-after-free in objectUseAfterFree/)).toHaveLength(1); // the write: same title, once
  });

  it('kfree twice: double-free', async () => {
    await state.m!.runTask(0, 'doubleFree');
    expect(await report(/BUG: KASAN: double-free in kfree/)).toMatch(
      /Freed by task \d+ on cpu 0:\n doubleFree/,
    );
  });

  it('a tasklet freed while scheduled: the free warns, and enabling and running it touch freed memory', async () => {
    await state.m!.runTask(1, 'freedWhileScheduled');
    await report(/tasklet_free: freed_while_scheduled is still scheduled or running/);
    expect(await report(/BUG: KASAN: use-after-free in tasklet_enable/)).toMatch(
      /The object is tasklet freed_while_scheduled:\n\nAllocated by task \d+ on cpu 1:\n freedWhileScheduled[\s\S]*\nFreed by task \d+ on cpu 1:\n freedWhileScheduled[\s\S]* which belongs to the cache tasklet_struct/,
    );
    expect(await report(/BUG: KASAN: use-after-free in tasklet_action_common/)).toMatch(
      /Read of size 4 at addr \S+ by task \S+\n\nCPU: 1 /,
    );
  });

  it('a tasklet scheduled after tasklet_kill and tasklet_free: use-after-free in tasklet_schedule, with the kill', async () => {
    await state.m!.runTask(0, 'scheduleAfterFree');
    expect(await report(/BUG: KASAN: use-after-free in tasklet_schedule/)).toMatch(
      /Write of size 4[\s\S]*Last tasklet_kill by task \d+ on cpu 0:\n scheduleAfterFree[\s\S]*Freed by task \d+ on cpu 0:\n scheduleAfterFree/,
    );
  });

  it("a callback touching its freed data: use-after-free in the callback, with the tasklet's history", async () => {
    await state.m!.runTask(1, 'callbackUseAfterFree');
    expect(await report(/BUG: KASAN: use-after-free in uaf_callback/)).toMatch(
      /Read of size 4 [\s\S]*Call Trace:\n uaf_callback[\s\S]*Freed by task \d+ on cpu 1:\n callbackUseAfterFree[\s\S]*The access came from the callback of tasklet uaf_tasklet:\n\nAllocated by task \d+ on cpu 1:\n callbackUseAfterFree/,
    );
  });

  it('silent on a correct teardown (kill, free the tasklet, then its data)', async () => {
    const before = lines(/BUG|WARNING/).length;
    await Promise.all([state.m!.runTask(0, 'cleanTeardown'), state.m!.runTask(1, 'cleanTeardown')]);
    await new Promise((r) => setTimeout(r, 50)); // a report would be on its way by now
    expect(lines(/BUG|WARNING/).slice(before)).toEqual([]);
  });

  it('what a correct remove relies on: free_irq of a machine-wide handler waits for it on the other CPU, then masks the line', async () => {
    const before = lines(/nobody cared|BUG|WARNING/).length;
    expect(await state.m!.runTask(0, 'freeIrqWaits')).toEqual([0, 1, 1]);
    expect(lines(/nobody cared|BUG|WARNING/).slice(before)).toEqual([]);
  });
});

describe('examples/rx-ring.ts (tasklet_kill before free_irq in remove)', () => {
  const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

  /** Runs the module's tasks until `stop` or `ms`; returns the log and how often it probed. */
  async function drive(file: string, stop: (log: string[]) => boolean, ms: number) {
    const log: string[] = [];
    let probes = 0;
    const m = await Machine.boot({
      cpus: 2,
      modules: [file],
      onPrintk: (_cpu, _level, text) => log.push(text),
    });
    try {
      await m.startTask(0, 'cycle');
      await m.startTask(1, 'traffic');
      const deadline = performance.now() + ms;
      while (!stop(log) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      probes = Atomics.load(m.sharedWords('rx_ring_driver'), 1);
    } finally {
      await m.shutdown();
    }
    return { log, probes };
  }

  it('KASAN finds the tasklet running on the freed device data; the fixed order runs clean', async () => {
    const found = (log: string[]) => log.some((t) => t.includes('BUG: KASAN'));
    const buggy = (await drive(example('rx-ring.ts'), found, 30_000)).log;
    const report = buggy.find((t) => t.includes('BUG: KASAN'));
    expect(report).toMatch(
      /BUG: KASAN: use-after-free in rx_ring_process\n[\s\S]*\nFreed by task \d+ on cpu 0:\n remove \(examples\/rx-ring\.ts:\d+\)[\s\S]*The access came from the callback of tasklet rx_ring_tasklet:\n\nLast tasklet_kill by task \d+ on cpu 0:\n remove \(examples\/rx-ring\.ts:\d+\)/,
    );
    const fixed = await drive(example('rx-ring-fixed.ts'), () => false, 1000);
    expect(fixed.log.filter((t) => /BUG|WARNING|nobody cared/.test(t))).toEqual([]);
    expect(fixed.probes).toBeGreaterThan(1); // it did remove and probe again
  });
});

describe('KASAN after module exit (kasan.module_exit=1, as stress and fuzz of a module set it)', () => {
  const exitLeak = fileURLToPath(new URL('./modules/exit-leak.ts', import.meta.url));

  /** Boots the module, shuts the machine down (its exit runs), returns the kernel reports. */
  async function unload(bug: number): Promise<string[]> {
    const log: string[] = [];
    const m = await Machine.boot({
      cpus: 2,
      modules: [exitLeak],
      params: { 'kasan.module_exit': 1, 'exit-leak.bug': bug },
      onPrintk: (_cpu, _level, text) => log.push(text),
    });
    // Init runs in a task after boot returns: unload only once it has armed both polls.
    await until('init armed the polls', async () => (await m.call(0, 'armed')) === true);
    await m.shutdown();
    return log.filter((t) => /BUG|WARNING/.test(t));
  }

  it('a tasklet still scheduled as the exit returns is a use-after-free, with its history; a killed one is not', async () => {
    const reports = await unload(1);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      /BUG: KASAN: use-after-free in tasklet_action_common\n[\s\S]*tasklet exit_leak_tasklet is still scheduled as module 'exit-leak' exits: its softirq runs exit_leak_work, text of the unloaded module[\s\S]*The object is tasklet exit_leak_tasklet:\n\nFreed by task \d+ on cpu 0:\n run_module_exits[\s\S]*belongs to the cache module exit-leak \(\.data\)/,
    );
    expect(await unload(0)).toEqual([]);
  });

  it('a timer left pending and a work item left queued as the exit returns are use-after-frees of the module', async () => {
    const reports = await unload(2 | 4);
    expect(reports).toHaveLength(2);
    const timer = reports.find((r) => r.includes('in call_timer_fn'));
    const work = reports.find((r) => r.includes('in process_one_work'));
    expect(timer).toMatch(
      /BUG: KASAN: use-after-free in call_timer_fn\n[\s\S]*timer exit_leak_poll is still (pending|running) as module 'exit-leak' exits: TIMER_SOFTIRQ runs exit_leak_poll_timer, text of the unloaded module \(del_timer_sync it in the exit path\)[\s\S]*belongs to the cache module exit-leak \(\.data\)/,
    );
    expect(work).toMatch(
      /BUG: KASAN: use-after-free in process_one_work\n[\s\S]*work exit_leak_work_item is still (queued|running) as module 'exit-leak' exits: its BH worker runs exit_leak_poll_work, text of the unloaded module \(cancel_work_sync it in the exit path\)/,
    );
  });
});

/** Boots one CPU with test module `file`, runs its task `task` there, and returns the printk lines. */
async function runModuleTask(
  file: string,
  task: string,
  params: Record<string, number> = {},
): Promise<{ log: string[]; result: unknown }> {
  const log: string[] = [];
  const m = await Machine.boot({
    cpus: 1,
    modules: [fileURLToPath(new URL(`./modules/${file}`, import.meta.url))],
    params,
    onPrintk: (_cpu, _level, text) => log.push(text),
  });
  try {
    return { log, result: await m.runTask(0, task) };
  } finally {
    await m.shutdown();
  }
}

describe('spurious interrupts (kernel/irq.ts note_interrupt)', () => {
  // 2000 IRQ_NONE answers are under note_interrupt's window: no report. (deaf-irq.raises=100000
  // gives 'irq 4: nobody cared ... Disabling IRQ #4', but takes seconds: not for the suite.)
  it('a handler answering IRQ_NONE a few times is not "nobody cared"; a line nobody requested has no handler for vector', async () => {
    const { log } = await runModuleTask('deaf-irq.ts', 'storm', { 'deaf-irq.raises': 2000 });
    expect(log.filter((t) => /nobody cared|No irq handler/.test(t))).toEqual([
      'do_IRQ: 0.6 No irq handler for vector',
    ]);
  });
});

describe('a handler that turns interrupts on (kernel/irq.ts)', () => {
  it('warns once, as __handle_irq_event_percpu does, and turns them off again', async () => {
    const { log, result: irqsOffAfter } = await runModuleTask('irq-enabler.ts', 'twice');
    const warnings = log.filter((t) => t.includes('enabled interrupts'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /irq 3 handler enabler_interrupt\+0x0\/0x0 enabled interrupts\nWARNING: CPU: 0 PID: \d+ at /,
    );
    expect(irqsOffAfter).toBe(false); // the task itself runs with interrupts on, as before the raises
  });
});
