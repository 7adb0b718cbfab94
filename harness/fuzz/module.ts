/**
 * The fuzz module, loaded on every CPU of a fuzz machine: the tasklet callback (oracles, busy
 * delay, self-reschedule), the work function and timer callback (bh-exec.ts), the fuzz interrupt
 * (schedules, queues and arms what its mailboxes ask), the per-program setup that replaces the
 * tasklets, resets the work items and timers and zeroes the shadow, and the per-CPU program thread.
 */
import {
  defineModule,
  smp_processor_id,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_free,
  tasklet_from_id,
  tasklet_setup,
  udelay,
} from 'tasklet-rt';
import { attach_tracepoint } from '../../kernel/trace.ts';
import { raw_load } from '../../shm/door.ts';
import { G_WARNINGS } from '../../shm/layout.ts';
import { on_trace_entry } from '../oracles/call-checks.ts';
import { exit_jiffies, install_vector_probe, offlineCount, run_context } from '../oracles/cpu-context.ts';
import { on_run_end, on_run_start } from '../oracles/run-checks.ts';
import {
  EventKind,
  F_BUDGET,
  F_KIND,
  F_OWNER,
  record_event,
  TaskletKind,
  take_budget,
  tw,
} from '../oracles/shadow.ts';
import { fuzz_timer_fn, fuzz_work_fn, serveBhMailbox, setupBh } from './bh-exec.ts';
import { on_fifo_pass_entry, on_fifo_pass_exit, on_fifo_resched, on_fifo_run } from './fifo.ts';
import { type DelayPlan, installInjection } from './injection.ts';
import {
  FUZZ_IRQ,
  mailbox,
  W_ACTIVE,
  W_DELAY_MAX_US,
  W_DELAY_PERMILLE,
  W_DELAY_SEED,
  W_GENERATION,
  W_IDS,
  W_NR_TASKLETS,
  W_SETUP_WARNINGS,
  W_THREADS,
  X_BUSY_US,
  X_RESCHED_HI,
  xw,
} from './layout.ts';
import { on_order_check, on_orphan_run } from './oracles.ts';
import type { TaskletSpec } from './program.ts';
import { fail, fifo_placeable, indexOf, logInterval, scheduleTracked, sh, tick, tl, words } from './state.ts';
import { fuzzThread, setFuzzHooks } from './thread.ts';

function fuzz_callback(t: TaskletStruct): void {
  const i = indexOf(t.id);
  if (i < 0) return;
  const cpu = smp_processor_id();
  const start = tick();
  record_event(sh, i, EventKind.RunStart, cpu);
  fail(on_order_check(sh, words, i, cpu, (h) => tl(h).count > 0));
  fail(on_fifo_run(words, Atomics.load(words, W_NR_TASKLETS), i, cpu, offlineCount(cpu)));
  fail(on_orphan_run(sh, words, i, cpu));
  fail(on_run_start(sh, i, run_context(sh, i, cpu)));
  const busy = Atomics.load(words, xw(i, X_BUSY_US));
  if (busy > 0) udelay(busy);
  if (take_budget(sh, i)) {
    const hi = Atomics.load(words, xw(i, X_RESCHED_HI)) !== 0;
    scheduleTracked(i, cpu, hi);
    if (fifo_placeable(i)) on_fifo_resched(sh, words, i, cpu, hi, offlineCount(cpu));
  }
  record_event(sh, i, EventKind.RunEnd, cpu);
  fail(on_run_end(sh, i, cpu, exit_jiffies()));
  logInterval(cpu, 'run', start);
}
setFuzzHooks(fuzz_callback, fuzz_setup);

/** The fuzz interrupt: the schedules other CPUs (or this one) asked of this CPU. */
function fuzz_irq(): void {
  const cpu = smp_processor_id();
  const start = tick();
  const n = Atomics.load(words, W_NR_TASKLETS);
  for (let i = 0; i < n; i++) {
    for (const hi of [false, true]) {
      // Taken off the mailbox only once scheduled: the drain never sees a request in between.
      while (Atomics.load(words, mailbox(cpu, i, hi)) > 0) {
        scheduleTracked(i, cpu, hi);
        Atomics.sub(words, mailbox(cpu, i, hi), 1);
      }
    }
  }
  serveBhMailbox(cpu);
  logInterval(cpu, 'irq', start);
}

export interface FuzzSetup {
  tasklets: TaskletSpec[];
  /** Per tasklet: the only CPU that schedules it, or -1 (the locality oracle's owner). */
  owners: number[];
  threads: number;
  delays: DelayPlan;
  /** The program's number on this machine (reports of an earlier one are told apart by it). */
  generation: number;
}

/**
 * Before each program, on one CPU with interrupts off (the machine is idle): frees the last program's tasklets,
 * zeroes every shared word, allocates and sets up fresh tasklets. Returns their ids.
 */
function fuzz_setup(arg: unknown): number[] {
  const setup = arg as FuzzSetup;
  const old = Atomics.load(words, W_NR_TASKLETS);
  for (let i = 0; i < old; i++) tasklet_free(tasklet_from_id(Atomics.load(words, W_IDS + i)));
  sh.fill(0);
  words.fill(0);
  const ids = setup.tasklets.map((spec, i) => {
    const t = tasklet_alloc(`t${i}`);
    tasklet_setup(t, fuzz_callback);
    Atomics.store(words, W_IDS + i, t.id);
    Atomics.store(sh, tw(i, F_KIND), spec.mode === 'private' ? TaskletKind.Private : TaskletKind.Shared);
    Atomics.store(sh, tw(i, F_OWNER), setup.owners[i] + 1);
    Atomics.store(sh, tw(i, F_BUDGET), spec.resched);
    Atomics.store(words, xw(i, X_BUSY_US), spec.busyUs);
    Atomics.store(words, xw(i, X_RESCHED_HI), spec.reschedHi ? 1 : 0);
    return t.id;
  });
  Atomics.store(words, W_NR_TASKLETS, ids.length);
  setupBh();
  Atomics.store(words, W_GENERATION, setup.generation);
  Atomics.store(words, W_THREADS, setup.threads);
  Atomics.store(words, W_DELAY_SEED, setup.delays.seed | 0);
  Atomics.store(words, W_DELAY_PERMILLE, setup.delays.permille);
  Atomics.store(words, W_DELAY_MAX_US, setup.delays.maxUs);
  Atomics.store(words, W_SETUP_WARNINGS, raw_load(G_WARNINGS));
  Atomics.store(words, W_ACTIVE, 1);
  return ids;
}

/** The FIFO model's passes (fifo.ts): each tasklet pass takes its queue whole and walks it. */
function install_fifo_passes(): void {
  attach_tracepoint('softirq_entry', (vec) => on_fifo_pass_entry(words, smp_processor_id(), vec));
  attach_tracepoint('softirq_exit', (vec) => {
    const cpu = smp_processor_id();
    on_fifo_pass_exit(words, Atomics.load(words, W_NR_TASKLETS), cpu, vec, offlineCount(cpu));
  });
}

/** Guarantee 15 on the tracepoints: entry and exit alternate per CPU; entries are counted. */
function install_trace_oracle(): void {
  let open = -1;
  const broken = (i: number, message: string): void =>
    fail({ oracle: 'trace', guarantee: 15, tasklet: i, cpus: [smp_processor_id()], message });
  attach_tracepoint('tasklet_entry', (id) => {
    const i = indexOf(id);
    if (open !== -1) broken(i, `tasklet_entry for #${id} inside the entry of #${open}`);
    open = id;
    if (i >= 0) on_trace_entry(sh, i);
  });
  attach_tracepoint('tasklet_exit', (id) => {
    if (open !== id) broken(indexOf(id), `tasklet_exit for #${id} without its entry`);
    open = -1;
  });
}

export default defineModule({
  name: 'fuzz',
  callbacks: [fuzz_callback, fuzz_work_fn, fuzz_timer_fn],
  irqs: { [FUZZ_IRQ]: { name: 'fuzz', handler: fuzz_irq } },
  calls: { fuzz_setup },
  tasks: { fuzz_thread: fuzzThread },
  cpu_init(cpu) {
    installInjection(words, cpu);
    install_trace_oracle();
    install_vector_probe();
    install_fifo_passes();
  },
});
