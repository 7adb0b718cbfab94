/**
 * /proc/timer_list, simplified to what tasklet-rt has: no hrtimers and no clock event devices,
 * only the per-CPU timer bases of kernel/timer.ts. Kept in the kernel file's shape (version
 * line, `now at`, one `cpu:` section per online CPU, `active timers:` with ` #n: <timer>,
 * <function>, S:01` and ` # expires at ...` lines), with expiries in jiffies. Read from shared
 * memory without the base locks, as a snapshot; a list changing under the reader is cut short.
 */
import { jiffies } from '../kernel/tick.ts';
import { machineMs } from '../shm/clock.ts';
import {
  C_RUNNING_TIMER,
  C_TIMER_EXPIRED,
  C_TIMER_HEAD,
  G_NR_CPUS,
  G_ONLINE_MASK,
  MAX_TIMERS,
  TM_EXPIRES_HI,
  TM_EXPIRES_LO,
  TM_FUNC,
  TM_NEXT,
} from '../shm/layout.ts';
import { shm } from '../shm/memory.ts';

const load = (at: number): number => Atomics.load(shm.mem, at);

function expiresOf(id: number): number {
  const addr = shm.layout.timer(id);
  return (load(addr + TM_EXPIRES_HI) >>> 0) * 2 ** 32 + (load(addr + TM_EXPIRES_LO) >>> 0);
}

/** The timer ids on the list starting at word `head` (pointer = id + 1), at most MAX_TIMERS. */
function walk(head: number): number[] {
  const ids: number[] = [];
  for (let p = load(head); p !== 0 && ids.length < MAX_TIMERS; p = load(shm.layout.timer(p - 1) + TM_NEXT))
    ids.push(p - 1);
  return ids;
}

/** `callbacks`: function names by callback id (the machine's metadata). */
export function render_timer_list(callbacks: readonly string[]): string {
  const now = jiffies();
  const name = (id: number): string => {
    const func = load(shm.layout.timer(id) + TM_FUNC);
    return callbacks[func] ?? `callback#${func}`;
  };
  const lines = [
    'Timer List Version: v0.9 (tasklet-rt: timer_list bases; no hrtimers, no clock event devices)',
    `now at ${Math.round(machineMs() * 1e6)} nsecs`,
    `jiffies: ${now}`,
    '',
  ];
  for (let cpu = 0; cpu < shm.mem[G_NR_CPUS]; cpu++) {
    if ((load(G_ONLINE_MASK + (cpu >> 5)) & (1 << (cpu & 31))) === 0) continue;
    const base = shm.layout.cpu(cpu);
    const running = load(base + C_RUNNING_TIMER);
    // Collected by a TIMER_SOFTIRQ pass (due, about to run) first, then the pending list.
    const active = [...walk(base + C_TIMER_EXPIRED), ...walk(base + C_TIMER_HEAD)];
    lines.push(
      `cpu: ${cpu}`,
      ' timer base (jiffies):',
      `  .running_timer: ${running === 0 ? 'none' : `${name(running - 1)}#${running - 1}`}`,
      'active timers:',
    );
    active.forEach((id, n) => {
      const expires = expiresOf(id);
      lines.push(
        ` #${n}: ${name(id)}#${id}, ${name(id)}, S:01`,
        ` # expires at ${expires} jiffies [in ${(expires - now) | 0} jiffies]`,
      );
    });
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
