/**
 * LDD3's `jit` module (misc-modules/jit.c, "just in time"), ported to tasklet-rt:
 * - /proc/currentime: jiffies, jiffies_64, do_gettimeofday and current_kernel_time;
 * - /proc/jitbusy, /proc/jitsched, /proc/jitqueue, /proc/jitschedto: the delay loops (busy
 *   wait, schedule(), wait_event_interruptible_timeout, schedule_timeout), `delay` jiffies each,
 *   printing jiffies before and after;
 * - /proc/jitimer: a kernel timer re-armed `tdelay` jiffies ahead until it has run
 *   JIT_ASYNC_LOOPS times;
 * - /proc/jitasklet and /proc/jitasklethi: a tasklet that reschedules itself as many times.
 * The asynchronous ones print a header and a line for the reader, then one line per run of the
 * timer or tasklet (where and when it ran), and the reader sleeps until the last one wakes it.
 * Parameters, as `insmod jit.ko delay=... tdelay=...`: `--param jit.delay=N jit.tdelay=N`
 * (Machine option `params: { 'jit.delay': N }`); delay defaults to HZ, tdelay to 10.
 */
import {
  add_timer,
  cpu_relax,
  current,
  current_kernel_time,
  defineModule,
  del_timer_sync,
  do_gettimeofday,
  from_timer,
  get_jiffies_64,
  HZ,
  in_interrupt,
  init_waitqueue_head,
  jiffies,
  module_param,
  type ProcRead,
  schedule,
  schedule_timeout,
  set_current_state,
  shared_words,
  smp_processor_id,
  sprintf,
  TaskState,
  type TimerList,
  tasklet_alloc,
  tasklet_free,
  tasklet_from_id,
  tasklet_hi_schedule,
  tasklet_init,
  tasklet_kill,
  tasklet_schedule,
  time_before,
  timer_alloc,
  timer_free,
  timer_from_id,
  timer_setup,
  type WaitQueueHead,
  wait_event_interruptible,
  wait_event_interruptible_timeout,
  wake_up_interruptible,
} from 'tasklet-rt';

export const JIT_ASYNC_LOOPS = 5;
/** The delay loops' length in jiffies (LDD3: `int delay = HZ`). */
const delay = module_param('jit', 'delay', HZ());
/** The timer's re-arm interval in jiffies (LDD3: `int tdelay = 10`). */
const tdelay = module_param('jit', 'tdelay', 10);
export const JIT_HEADER = '   time   delta  inirq    pid   cpu command\n';

/** Readers that may wait at once (each holds one slot of shared state). */
const MAX_READERS = 16;
const LINE_CHARS = 64;
// A reader's slot: what the C module keeps in its kmalloc'ed jit_data, in shared words so the
// tasklet finds it on whichever CPU it runs (after a hot-unplug, the heir's).
const S_USED = 0;
const S_LOOPS = 1;
const S_HI = 2;
const S_PREV_LO = 3;
const S_PREV_HI = 4;
const S_TASKLET = 5; // the tasklet's id, or the timer's for /proc/jitimer
const S_LINES = 6;
const S_TEXT = 8;
const SLOT_WORDS = S_TEXT + JIT_ASYNC_LOOPS * LINE_CHARS;
const slots = shared_words(MAX_READERS * SLOT_WORDS, 'jit');
/** Wait queues of the readers sleeping on this CPU, by slot (a wake-up elsewhere is noticed at the reader's next pick). */
const waits = new Map<number, WaitQueueHead>();

const word = (slot: number, field: number): number => slot * SLOT_WORDS + field;

function claim_slot(): number {
  for (let slot = 0; slot < MAX_READERS; slot++)
    if (Atomics.compareExchange(slots, word(slot, S_USED), 0, 1) === 0) return slot;
  throw new Error(`jit: more than ${MAX_READERS} readers at once`);
}

function set_prev(slot: number, j: number): void {
  Atomics.store(slots, word(slot, S_PREV_LO), j % 2 ** 32);
  Atomics.store(slots, word(slot, S_PREV_HI), Math.floor(j / 2 ** 32));
}

function prev(slot: number): number {
  return (
    (Atomics.load(slots, word(slot, S_PREV_HI)) >>> 0) * 2 ** 32 +
    (Atomics.load(slots, word(slot, S_PREV_LO)) >>> 0)
  );
}

/** seq_printf into the slot: the reader copies the lines into its seq_file once woken. */
function slot_puts(slot: number, line: string): void {
  const n = Atomics.load(slots, word(slot, S_LINES));
  const text = line.slice(0, LINE_CHARS - 1);
  const at = word(slot, S_TEXT + n * LINE_CHARS);
  for (let i = 0; i < text.length; i++) Atomics.store(slots, at + i, text.charCodeAt(i));
  Atomics.store(slots, at + text.length, 0);
  Atomics.store(slots, word(slot, S_LINES), n + 1);
}

function slot_lines(slot: number): string[] {
  const lines: string[] = [];
  for (let n = 0; n < Atomics.load(slots, word(slot, S_LINES)); n++) {
    const at = word(slot, S_TEXT + n * LINE_CHARS);
    let line = '';
    for (let i = 0; Atomics.load(slots, at + i) !== 0; i++)
      line += String.fromCharCode(Atomics.load(slots, at + i));
    lines.push(line);
  }
  return lines;
}

function jit_line(j: number, delta: number): string {
  const task = current();
  return sprintf(
    '%9li  %3li     %i    %6i   %i   %s\n',
    j,
    delta,
    in_interrupt() ? 1 : 0,
    task.pid,
    smp_processor_id(),
    task.comm,
  );
}

function jit_tasklet_fn(slot: number): void {
  const j = jiffies();
  slot_puts(slot, jit_line(j, j - prev(slot)));
  if (Atomics.sub(slots, word(slot, S_LOOPS), 1) > 1) {
    set_prev(slot, j);
    const tlet = tasklet_from_id(Atomics.load(slots, word(slot, S_TASKLET)));
    if (Atomics.load(slots, word(slot, S_HI)) !== 0) tasklet_hi_schedule(tlet);
    else tasklet_schedule(tlet);
  } else {
    const wait = waits.get(slot);
    if (wait !== undefined) wake_up_interruptible(wait);
  }
}

/** The read side of /proc/jitasklet (hi false) and /proc/jitasklethi (hi true). */
export function jit_tasklet(hi: boolean): ProcRead {
  return function* read(m) {
    const j = jiffies();
    m.puts(JIT_HEADER);
    m.puts(jit_line(j, 0));
    const slot = claim_slot();
    const tlet = tasklet_alloc('jit_tasklet');
    Atomics.store(slots, word(slot, S_LOOPS), JIT_ASYNC_LOOPS);
    Atomics.store(slots, word(slot, S_HI), hi ? 1 : 0);
    Atomics.store(slots, word(slot, S_TASKLET), tlet.id);
    Atomics.store(slots, word(slot, S_LINES), 0);
    set_prev(slot, j);
    const wait = init_waitqueue_head();
    waits.set(slot, wait);
    tasklet_init(tlet, jit_tasklet_fn, slot);
    if (hi) tasklet_hi_schedule(tlet);
    else tasklet_schedule(tlet);
    yield* wait_event_interruptible(wait, () => Atomics.load(slots, word(slot, S_LOOPS)) === 0);
    // LDD3 kfree()s the data right here, while the softirq may still be unlocking the tasklet
    // (a use-after-free). Waiting for the tasklet to be idle first closes that race.
    tasklet_kill(tlet);
    for (const line of slot_lines(slot)) m.puts(line);
    tasklet_free(tlet);
    waits.delete(slot);
    Atomics.store(slots, word(slot, S_USED), 0);
  };
}

/** The timer of /proc/jitimer: a line per run, re-armed tdelay jiffies after its last expiry. */
function jit_timer_fn(t: TimerList): void {
  const slot = from_timer(t);
  const j = jiffies();
  slot_puts(slot, jit_line(j, j - prev(slot)));
  if (Atomics.sub(slots, word(slot, S_LOOPS), 1) > 1) {
    set_prev(slot, j);
    add_timer(t, t.expires + tdelay); // data->timer.expires += tdelay; add_timer(&data->timer)
  } else {
    const wait = waits.get(slot);
    if (wait !== undefined) wake_up_interruptible(wait);
  }
}

/** The read side of /proc/jitimer. */
export const jit_timer: ProcRead = function* read(m) {
  const j = jiffies();
  m.puts(JIT_HEADER);
  m.puts(jit_line(j, 0));
  const slot = claim_slot();
  const timer = timer_alloc('jit_timer', slot);
  Atomics.store(slots, word(slot, S_LOOPS), JIT_ASYNC_LOOPS);
  Atomics.store(slots, word(slot, S_TASKLET), timer.id);
  Atomics.store(slots, word(slot, S_LINES), 0);
  set_prev(slot, j);
  const wait = init_waitqueue_head();
  waits.set(slot, wait);
  timer_setup(timer, jit_timer_fn, 0);
  add_timer(timer, j + tdelay);
  yield* wait_event_interruptible(wait, () => Atomics.load(slots, word(slot, S_LOOPS)) === 0);
  // The last run woke us from inside its callback: wait until it has returned (LDD3 frees the
  // data at once, which races with the callback's return as the tasklet does).
  del_timer_sync(timer_from_id(Atomics.load(slots, word(slot, S_TASKLET))));
  for (const line of slot_lines(slot)) m.puts(line);
  timer_free(timer);
  waits.delete(slot);
  Atomics.store(slots, word(slot, S_USED), 0);
};

/** /proc/currentime: jiffies (%08lx), jiffies_64 (%016Lx), do_gettimeofday, current_kernel_time. */
export const jit_currentime: ProcRead = function* read(m) {
  const j1 = jiffies();
  const j2 = get_jiffies_64();
  const tv1 = do_gettimeofday();
  const tv2 = current_kernel_time();
  m.puts(
    sprintf(
      '0x%08lx 0x%016Lx %10i.%06i\n%40i.%09i\n',
      j1,
      j2,
      tv1.tv_sec,
      tv1.tv_usec,
      tv2.tv_sec,
      tv2.tv_nsec,
    ),
  );
};

type DelayKind = 'busy' | 'sched' | 'queue' | 'schedto';

/** jit_fn: delays `delay` jiffies the chosen way, then prints jiffies before and after ("%9li %9li"). */
export function jit_fn(kind: DelayKind): ProcRead {
  return function* read(m) {
    const wait = init_waitqueue_head();
    const j0 = jiffies();
    const j1 = j0 + delay;
    switch (kind) {
      case 'busy':
        while (time_before(jiffies(), j1)) cpu_relax();
        break;
      case 'sched':
        while (time_before(jiffies(), j1)) yield* schedule();
        break;
      case 'queue':
        yield* wait_event_interruptible_timeout(wait, () => false, delay);
        break;
      case 'schedto':
        set_current_state(TaskState.Sleeping);
        yield* schedule_timeout(delay);
        break;
    }
    m.puts(sprintf('%9li %9li\n', j0, jiffies()));
  };
}

export default defineModule({
  name: 'jit',
  callbacks: [jit_tasklet_fn, jit_timer_fn],
  procs: {
    currentime: jit_currentime,
    jitbusy: jit_fn('busy'),
    jitsched: jit_fn('sched'),
    jitqueue: jit_fn('queue'),
    jitschedto: jit_fn('schedto'),
    jitimer: jit_timer,
    jitasklet: jit_tasklet(false),
    jitasklethi: jit_tasklet(true),
  },
});
