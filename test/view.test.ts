/**
 * The machine view (machine/view.ts) on hand-built memory: queue walks (order, tail, cycles,
 * links out of the table), waiters, counters, and the findings stress and fuzz report from:
 * lost tasklets, tasklets queued twice or while running, waits that cannot end.
 */
import { describe, expect, it } from 'vitest';
import { MachineView, stateFlags } from '../machine/view.ts';
import {
  C_HI_HEAD,
  C_TASKLET_RUNS,
  C_VEC_HEAD,
  C_WAIT_KIND,
  C_WAIT_PID,
  C_WAIT_SINCE,
  C_WAIT_TASKLET,
  createMemory,
  G_ONLINE_MASK,
  G_WARNINGS,
  type MachineMemory,
  T_COUNT,
  T_NEXT,
  T_STATE,
  WaitKind,
} from '../shm/layout.ts';

const SCHED = 1;
const RUN = 2;
const MAX = 16;

function machine(): { memory: MachineMemory; view: MachineView } {
  const memory = createMemory({ nrCpus: 2, maxTasklets: MAX });
  memory.mem[G_ONLINE_MASK] = 0b11;
  // Empty queues, tails at their heads, as the machine sets them up at boot.
  for (const cpu of [0, 1]) for (const head of [C_VEC_HEAD, C_HI_HEAD]) enqueue(memory, cpu, head, []);
  return { memory, view: new MachineView(memory) };
}

/** Links `ids` into one of a CPU's queues the way queue_append leaves it. */
function enqueue({ mem, layout }: MachineMemory, cpu: number, head: number, ids: number[]): void {
  const headWord = layout.cpu(cpu) + head;
  let link = headWord;
  for (const id of ids) {
    mem[link] = id + 1;
    link = layout.tasklet(id) + T_NEXT;
    mem[layout.tasklet(id) + T_STATE] |= SCHED;
  }
  mem[link] = 0;
  mem[headWord + 1] = link;
}

const setState = ({ mem, layout }: MachineMemory, id: number, state: number, count = 0): void => {
  mem[layout.tasklet(id) + T_STATE] = state;
  mem[layout.tasklet(id) + T_COUNT] = count;
};

function wait({ mem, layout }: MachineMemory, cpu: number, kind: WaitKind, tasklet: number): void {
  mem[layout.cpu(cpu) + C_WAIT_KIND] = kind;
  mem[layout.cpu(cpu) + C_WAIT_TASKLET] = tasklet + 1;
  mem[layout.cpu(cpu) + C_WAIT_PID] = 1001;
  mem[layout.cpu(cpu) + C_WAIT_SINCE] = 42;
}

describe('machine view', () => {
  it('reads an idle machine: empty queues, no waiters, drained, no findings', () => {
    const { view } = machine();
    expect(view.onlineCpus()).toEqual([0, 1]);
    expect(view.queuesEmpty()).toBe(true);
    expect(view.queues().every((q) => q.ids.length === 0 && q.tailOk)).toBe(true);
    expect(view.waiters()).toEqual([]);
    expect(view.drained([1, 2, 3])).toBe(true);
    expect(view.findings([1, 2, 3])).toEqual([]);
  });

  it('walks each queue in order, checks its tail, and knows who holds what', () => {
    const { memory, view } = machine();
    enqueue(memory, 0, C_VEC_HEAD, [3, 5]);
    enqueue(memory, 1, C_HI_HEAD, [7]);
    expect(view.queue(0, 'normal')).toMatchObject({ ids: [3, 5], cycle: false, tailOk: true });
    expect(view.queue(1, 'hi')).toMatchObject({ ids: [7], tailOk: true });
    expect([...view.holders()]).toEqual([
      [3, [0]],
      [5, [0]],
      [7, [1]],
    ]);
    expect(view.cpusWithQueued()).toEqual([0, 1]);
    expect(view.drained([3])).toBe(false);
    expect(view.tasklet(3)).toMatchObject({ state: SCHED, sched: true, run: false, next: 6 });
    memory.mem[memory.layout.cpu(0) + C_VEC_HEAD + 1] = memory.layout.cpu(0) + C_VEC_HEAD; // tail left at the head
    expect(view.queue(0, 'normal').tailOk).toBe(false);
    expect(view.findings([3, 5, 7])).toEqual([]);
  });

  it('stops at a cycle or a link out of the table, and reports the queue', () => {
    const { memory, view } = machine();
    enqueue(memory, 0, C_VEC_HEAD, [3, 5]);
    memory.mem[memory.layout.tasklet(5) + T_NEXT] = 4; // back to 3
    const q = view.queue(0, 'normal');
    expect(q.cycle).toBe(true);
    expect(q.ids).toHaveLength(MAX);
    const found = view.findings([3]);
    expect(found[0]).toEqual({ kind: 'queue-cycle', cpu: 0, queue: 'normal' });
    expect(found[1]).toMatchObject({ kind: 'queued-twice', tasklet: 3 });
    enqueue(memory, 1, C_HI_HEAD, [2]);
    memory.mem[memory.layout.tasklet(2) + T_NEXT] = MAX + 5;
    expect(view.queue(1, 'hi')).toMatchObject({ ids: [2], badLink: true, tailOk: false });
  });

  it('finds next links that loop off every queue (a list a pass took and walks forever)', () => {
    const { memory, view } = machine();
    const link = (from: number, to: number): void => {
      memory.mem[memory.layout.tasklet(from) + T_NEXT] = to + 1;
    };
    link(2, 7); // 2 -> 7, stale and harmless: 7 ends its list
    expect(view.linkCycle([2, 7])).toBe(-1);
    link(7, 9);
    link(9, 7); // 7 -> 9 -> 7, on no queue
    expect(view.linkCycle([1, 2, 9])).toBe(2);
    expect(view.findings([2, 7, 9])).toEqual([]);
  });

  it('finds a tasklet on two queues, a lost one, one queued while running', () => {
    const { memory, view } = machine();
    enqueue(memory, 0, C_VEC_HEAD, [3]);
    enqueue(memory, 1, C_VEC_HEAD, [4, 3]); // 3 stays last: its next link ends both queues
    setState(memory, 4, SCHED | RUN);
    setState(memory, 6, SCHED); // on no queue
    setState(memory, 8, SCHED | RUN); // running: not lost
    expect(view.findings([3, 4, 6, 8])).toEqual([
      { kind: 'queued-twice', tasklet: 3, cpus: [0, 1] },
      { kind: 'queued-while-running', tasklet: 4, cpus: [1] },
      { kind: 'lost', tasklet: 6 },
    ]);
    expect(view.quiet([3])).toBe(false);
  });

  it('reads waiters, and finds the kills that cannot return: on a lost or a disabled tasklet', () => {
    const { memory, view } = machine();
    setState(memory, 6, SCHED);
    wait(memory, 0, WaitKind.TaskletSchedClear, 6);
    enqueue(memory, 1, C_VEC_HEAD, [9]);
    setState(memory, 9, SCHED, 1);
    wait(memory, 1, WaitKind.TaskletSchedClear, 9);
    expect(view.waiters()).toEqual([
      { cpu: 0, kind: WaitKind.TaskletSchedClear, tasklet: 6, pid: 1001, since: 42 },
      { cpu: 1, kind: WaitKind.TaskletSchedClear, tasklet: 9, pid: 1001, since: 42 },
    ]);
    const stuck = view.findings([]).filter((f) => f.kind === 'stuck-waiter');
    expect(stuck.map((f) => f.kind === 'stuck-waiter' && [f.tasklet, f.reason])).toEqual([
      [6, 'lost'],
      [9, 'disabled'],
    ]);
    wait(memory, 0, WaitKind.Event, -1);
    expect(view.waiters()[0]).toMatchObject({ kind: WaitKind.Event, tasklet: -1 });
  });

  it('reads counters unsigned, warnings, and the online mask', () => {
    const { memory, view } = machine();
    memory.mem[memory.layout.cpu(1) + C_TASKLET_RUNS] = -1;
    memory.mem[G_WARNINGS] = 2;
    memory.mem[G_ONLINE_MASK] = 0b10;
    expect(view.counters(1).runs).toBe(2 ** 32 - 1);
    expect(view.warnings()).toBe(2);
    expect(view.onlineCpus()).toEqual([1]);
    expect([0, SCHED, RUN, SCHED | RUN].map(stateFlags)).toEqual(['0', 'SCHED', 'RUN', 'SCHED|RUN']);
  });
});
