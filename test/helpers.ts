/** Shared test plumbing: boot a machine with the probe module, poll for conditions. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { Machine, type MachineOptions } from '../machine/index.ts';
import { MachineView } from '../machine/view.ts';
import {
  C_HI_HEAD,
  C_VEC_HEAD,
  T_COUNT,
  T_STATE,
  TASKLET_STATE_RUN,
  TASKLET_STATE_SCHED,
} from '../shm/layout.ts';
import {
  FIELDS,
  field,
  LOG_REC,
  PROBE_WORDS,
  PROBES,
  type RunRecord,
  W_LOG,
  W_LOG_LEN,
} from './modules/probe-layout.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Whether dist/ was built from the sources as they are now (tools/build.mjs stamps it): then a
 * test may run the build, which starts in a third of the time tsx needs for the sources.
 */
export async function distIsCurrent(): Promise<boolean> {
  const stamp = `${root}dist/.sources-hash`;
  if (!existsSync(stamp)) return false;
  // @ts-expect-error: a plain .mjs tool without declarations
  const { sourcesHash } = (await import('../tools/sources-hash.mjs')) as {
    sourcesHash: (r: string) => string;
  };
  return readFileSync(stamp, 'utf8').trim() === sourcesHash(root);
}

export const probeModule = fileURLToPath(new URL('./modules/probe.ts', import.meta.url));
export const jitModule = fileURLToPath(new URL('../modules/jit.ts', import.meta.url));
export const loadModule = fileURLToPath(new URL('../modules/load.ts', import.meta.url));

let booted: Machine | null = null;

afterEach(async () => {
  await booted?.shutdown();
  booted = null;
});

/** Boots a machine (shut down after the test) with the probe module unless modules are given. */
export async function boot(options: MachineOptions = {}): Promise<Machine> {
  booted = await Machine.boot({ cpus: 2, modules: [probeModule], onPrintk: () => {}, ...options });
  return booted;
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface ProbeSnapshot {
  runs: number;
  lastCpu: number;
  overlaps: number;
  context: number;
  seq: number;
  data: number;
  cpuMask: number;
  state: number;
  count: number;
}

export const probe = (m: Machine, id: number, cpu = 0): Promise<ProbeSnapshot> =>
  m.call(cpu, 'get', { id }) as Promise<ProbeSnapshot>;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Direct views of shared memory from the controller thread (synchronous, no CPU round trip).

/** The probe module's shared words (it is the first module to claim any). */
export function probeWords(m: Machine): Int32Array {
  return new Int32Array(m.memory.sab, m.memory.layout.moduleBase * 4, PROBE_WORDS);
}

/** One field of one probe tasklet. */
export const pf = (m: Machine, id: number, f: number): number => Atomics.load(probeWords(m), field(id, f));

export function setPf(m: Machine, id: number, f: number, value: number): void {
  Atomics.store(probeWords(m), field(id, f), value);
}

/** Zeroes a probe tasklet's record (only while it is idle). */
export function resetProbe(m: Machine, id: number): void {
  probeWords(m).fill(0, field(id, 0), field(id, 0) + FIELDS);
}

export function resetRunLog(m: Machine): void {
  Atomics.store(probeWords(m), W_LOG_LEN, 0);
}

export function runLog(m: Machine): RunRecord[] {
  const w = probeWords(m);
  const n = Math.min(Atomics.load(w, W_LOG_LEN), 256);
  const out: RunRecord[] = [];
  for (let i = 0; i < n; i++) {
    const [id, cpu, pid, ctx, irqGen, pass] = w.subarray(W_LOG + i * LOG_REC, W_LOG + (i + 1) * LOG_REC);
    out.push({ id, cpu, pid, ctx, irqGen, pass });
  }
  return out;
}

/** A tasklet's state word and disable count, read from shared memory. */
export function taskletWord(m: Machine, id: number): { state: number; count: number } {
  const a = m.memory.layout.tasklet(id);
  return { state: Atomics.load(m.memory.mem, a + T_STATE), count: Atomics.load(m.memory.mem, a + T_COUNT) };
}

export const SCHED = 1 << TASKLET_STATE_SCHED;
export const RUN = 1 << TASKLET_STATE_RUN;

export interface QueueAudit {
  /** Tasklet ids on each online CPU's queues, in order. */
  queues: { cpu: number; vec: number[]; hi: number[] }[];
  /** Every broken structural rule found (guarantee 11). */
  problems: string[];
}

/**
 * Walks every CPU's two tasklet queues from the controller (the machine view) and checks guarantee 11: every
 * tasklet is on at most one queue at most once, each queue's tail points at its last `next`,
 * and (for the probe tasklets) SCHED is set exactly when the tasklet is queued. Only meaningful
 * while no softirq pass can splice a queue (nothing queued, or every CPU holding bh off).
 */
export function auditQueues(m: Machine, cpus = m.onlineCpus()): QueueAudit {
  const view = new MachineView(m.memory);
  const seen = new Map<number, number>();
  const problems: string[] = [];
  const queues: QueueAudit['queues'] = [];
  for (let cpu = 0; cpu < m.nrCpus; cpu++) {
    const lists = (['normal', 'hi'] as const).map((kind) => {
      const q = view.queue(cpu, kind);
      const head = kind === 'hi' ? C_HI_HEAD : C_VEC_HEAD;
      for (const id of q.ids) seen.set(id, (seen.get(id) ?? 0) + 1);
      if (q.cycle) problems.push(`CPU${cpu} queue at ${head} has a cycle`);
      else if (!q.tailOk)
        problems.push(`CPU${cpu} queue at ${head}: tail does not point at the last next field`);
      if (q.ids.length > 0 && !cpus.includes(cpu)) problems.push(`offline CPU${cpu} still holds tasklets`);
      return q.ids;
    });
    if (cpus.includes(cpu)) queues.push({ cpu, vec: lists[0], hi: lists[1] });
  }
  for (const [id, n] of seen) if (n > 1) problems.push(`tasklet ${id} is queued ${n} times`);
  for (let id = 0; id < PROBES; id++) {
    const sched = view.tasklet(id).sched;
    const queued = (seen.get(id) ?? 0) > 0;
    if (sched !== queued)
      problems.push(`tasklet ${id}: SCHED ${sched ? 'set' : 'clear'} but ${queued ? '' : 'not '}queued`);
  }
  return { queues, problems };
}

/** Boots a machine for a whole describe block (the caller shuts it down in afterAll). */
export function bootShared(options: MachineOptions = {}): Promise<Machine> {
  return Machine.boot({ cpus: 2, modules: [probeModule], onPrintk: () => {}, ...options });
}
