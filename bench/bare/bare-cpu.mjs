// The ceiling: the tasklet algorithm of runtime/tasklet.ts written inline over an Int32Array,
// in a plain JS worker with no runtime layers (no interrupt points, no ops table, no softirq
// core). Same steps, same Atomics: test_and_set SCHED, append to this CPU's queue, raise the
// softirq; a pass splices the queue, then per entry trylock RUN, check count, clear SCHED,
// call, unlock, or requeue.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CPU, CPU_STRIDE, GLOBAL, TASKLET, TASKLET_STRIDE, TaskletState } from './bare-layout.mjs';

const { sab, cpu, mode, tasklets, reportCpuNs } = workerData;
const mem = new Int32Array(sab);
const base = GLOBAL.cpus + cpu * CPU_STRIDE;
const head = base + CPU.head;
const tail = base + CPU.tail;
const pending = base + CPU.pending;
const runs = base + CPU.runs;
const requeues = base + CPU.requeues;
const TASKLET_SOFTIRQ_BIT = 1 << 6;
const addr = (ptr) => GLOBAL.tasklets + (ptr - 1) * TASKLET_STRIDE;

function schedule(ptr) {
  const a = addr(ptr);
  if ((Atomics.or(mem, a + TASKLET.state, TaskletState.sched) & TaskletState.sched) !== 0) return;
  append(ptr, a);
  Atomics.or(mem, pending, TASKLET_SOFTIRQ_BIT);
}

function append(ptr, a) {
  Atomics.store(mem, a + TASKLET.next, 0);
  Atomics.store(mem, Atomics.load(mem, tail), ptr);
  Atomics.store(mem, tail, a + TASKLET.next);
}

function action() {
  let list = Atomics.load(mem, head);
  Atomics.store(mem, head, 0);
  Atomics.store(mem, tail, head);
  while (list !== 0) {
    const ptr = list;
    const a = addr(ptr);
    list = Atomics.load(mem, a + TASKLET.next);
    if ((Atomics.or(mem, a + TASKLET.state, TaskletState.run) & TaskletState.run) === 0) {
      if (Atomics.load(mem, a + TASKLET.count) === 0) {
        if ((Atomics.and(mem, a + TASKLET.state, ~TaskletState.sched) & TaskletState.sched) !== 0) {
          callbacks[Atomics.load(mem, a + TASKLET.func)](ptr);
        }
        Atomics.and(mem, a + TASKLET.state, ~TaskletState.run);
        continue;
      }
      Atomics.and(mem, a + TASKLET.state, ~TaskletState.run);
    }
    append(ptr, a);
    Atomics.or(mem, pending, TASKLET_SOFTIRQ_BIT);
    mem[requeues]++;
  }
}

// The user callbacks, by id (as the runtime resolves a tasklet's callback id).
const sharedCount = mode === 'shared' ? tasklets : 0;
let running = true;
const callbacks = [
  /* 0: local, self-rescheduling */ (ptr) => {
    mem[runs]++;
    if (running) schedule(ptr);
  },
  /* 1: shared, counted */ () => {
    mem[runs]++;
  },
  /* 2: this CPU's driver: schedules every shared tasklet, then itself */ (ptr) => {
    if (!running) return;
    for (let p = 1; p <= sharedCount; p++) schedule(p);
    schedule(ptr);
  },
];

function init(ptr, func) {
  const a = addr(ptr);
  Atomics.store(mem, a + TASKLET.func, func);
}

// Local: this CPU's K tasklets after every CPU's block of K; shared: T shared, then one driver per CPU.
const mine = [];
if (mode === 'local') {
  for (let i = 0; i < tasklets; i++) mine.push(1 + cpu * tasklets + i);
  for (const p of mine) init(p, 0);
} else {
  if (cpu === 0) for (let p = 1; p <= tasklets; p++) init(p, 1);
  mine.push(tasklets + 1 + cpu);
  init(mine[0], 2);
}
Atomics.store(mem, tail, head); // empty queue: tail points at head
Atomics.add(mem, GLOBAL.ready, 1);
Atomics.notify(mem, GLOBAL.ready);
while (Atomics.load(mem, GLOBAL.go) === 0) Atomics.wait(mem, GLOBAL.go, 0, 50);
// bench/count/cpu-per-run.ts: this thread's time on a core from here to the stop (Linux).
const threadCpuNs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
const cpuNsAtGo = reportCpuNs ? threadCpuNs() : 0;
for (const p of mine) schedule(p);

// The softirq loop: run a pass whenever the pending bit is set, until told to stop.
while (Atomics.load(mem, GLOBAL.stop) === 0) {
  if ((Atomics.exchange(mem, pending, 0) & TASKLET_SOFTIRQ_BIT) !== 0) action();
}
running = false;
if (reportCpuNs) parentPort.postMessage({ cpuNs: threadCpuNs() - cpuNsAtGo, runs: mem[runs] });
