/**
 * The tasklet part of LDD3's `jit` module (misc-modules/jit.c), ported to tasklet-rt:
 * /proc/jitasklet and /proc/jitasklethi. Reading one prints a header and a line for the reader,
 * then a tasklet reschedules itself until it has run JIT_ASYNC_LOOPS times, printing where and
 * when each run happened, and finally wakes the reader.
 */
import {
  current,
  defineModule,
  in_interrupt,
  init_waitqueue_head,
  jiffies,
  type ProcRead,
  type SeqFile,
  smp_processor_id,
  sprintf,
  type TaskletStruct,
  tasklet_alloc,
  tasklet_free,
  tasklet_hi_schedule,
  tasklet_init,
  tasklet_kill,
  tasklet_schedule,
  type WaitQueueHead,
  wait_event_interruptible,
  wake_up_interruptible,
} from 'tasklet-rt';

export const JIT_ASYNC_LOOPS = 5;
export const JIT_HEADER = '   time   delta  inirq    pid   cpu command\n';

interface JitData {
  prevjiffies: number;
  m: SeqFile;
  loops: number;
  hi: boolean;
  wait: WaitQueueHead;
  tlet: TaskletStruct;
}

/**
 * The `unsigned long data` the C module passes is a pointer to its jit_data; here it is a handle
 * into this CPU's table (the tasklet runs on the CPU that scheduled it, where the reader sleeps).
 */
const jitData = new Map<number, JitData>();
let nextHandle = 1;

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

function jit_tasklet_fn(handle: number): void {
  const data = jitData.get(handle)!;
  const j = jiffies();
  data.m.puts(jit_line(j, (j - data.prevjiffies) >>> 0));
  if (--data.loops > 0) {
    data.prevjiffies = j;
    if (data.hi) tasklet_hi_schedule(data.tlet);
    else tasklet_schedule(data.tlet);
  } else {
    wake_up_interruptible(data.wait);
  }
}

function jit_tasklet(hi: boolean): ProcRead {
  return function* read(m) {
    const j = jiffies();
    m.puts(JIT_HEADER);
    m.puts(jit_line(j, 0));
    const handle = nextHandle++;
    const tlet = tasklet_alloc('jit_tasklet');
    const data: JitData = {
      prevjiffies: j,
      m,
      loops: JIT_ASYNC_LOOPS,
      hi,
      wait: init_waitqueue_head(),
      tlet,
    };
    jitData.set(handle, data);
    tasklet_init(tlet, jit_tasklet_fn, handle);
    if (hi) tasklet_hi_schedule(tlet);
    else tasklet_schedule(tlet);
    yield* wait_event_interruptible(data.wait, () => data.loops === 0);
    // LDD3 kfree()s the data right here, while the softirq may still be unlocking the tasklet
    // (a use-after-free). Waiting for the tasklet to be idle first closes that race.
    tasklet_kill(tlet);
    tasklet_free(tlet);
    jitData.delete(handle);
  };
}

export default defineModule({
  name: 'jit',
  callbacks: [jit_tasklet_fn],
  procs: { jitasklet: jit_tasklet(false), jitasklethi: jit_tasklet(true) },
});
