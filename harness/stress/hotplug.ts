/**
 * Stress hotplug: each step brings the offline CPU back, or takes one down. Aimed at the moments
 * that matter: the CPU taken down is preferably one with tasklets queued or a callback running
 * (work in flight on the dying CPU), and a CPU just brought up is sometimes taken down again at
 * once (back-to-back down/up).
 */
import type { Prng } from '../prng.ts';
import { bhBusyCpus } from './bh-drain.ts';
import type { StressContext } from './context.ts';
import { reportHang } from './hang.ts';
import { reportStuck } from './stuck.ts';

export interface HotplugStats {
  inFlight: number;
  backToBack: number;
}

/** CPUs with work in flight: tasklets on their queues, a stress callback running there, timers or BH work. */
function busyCpus(ctx: StressContext, online: number[]): number[] {
  const queued = new Set([...ctx.view.cpusWithQueued(online), ...bhBusyCpus(ctx.machine)]);
  const ids = ctx.workload.ids();
  for (let i = 0; i < ids.length; i++) {
    const cpu = ctx.workload.callbackCpu(i);
    if (cpu >= 0) queued.add(cpu);
  }
  return online.filter((cpu) => queued.has(cpu));
}

async function down(ctx: StressContext, rng: Prng, stats: HotplugStats): Promise<boolean> {
  const online = ctx.machine.onlineCpus();
  if (online.length < 2) return false;
  const busy = busyCpus(ctx, online);
  const victim = busy.length > 0 && rng.chance(75) ? rng.pick(busy) : rng.pick(online);
  if (busy.includes(victim)) stats.inFlight++;
  try {
    await ctx.machine.cpuDown(victim);
  } catch {
    // A task that never reaches a preemption point keeps its CPU up: say on what, if we can.
    await reportStuck(ctx);
    if (ctx.verdicts.violations.length === 0) reportHang(ctx, `CPU${victim} did not reach the offline point`);
    return false;
  }
  return true;
}

/** Returns how many CPUs changed state (a CPU that would not go down is a hang). */
export async function hotplugStep(ctx: StressContext, rng: Prng, stats: HotplugStats): Promise<number> {
  const { machine, options } = ctx;
  if (options.cpus < 2) return 0;
  const online = machine.onlineCpus();
  if (online.length < options.cpus) {
    const offline = [...Array(options.cpus).keys()].filter((cpu) => !online.includes(cpu));
    await machine.cpuUp(offline[0]);
    if (!rng.chance(30)) return 1;
    stats.backToBack++;
    return (await down(ctx, rng, stats)) ? 2 : 1;
  }
  return (await down(ctx, rng, stats)) ? 1 : 0;
}
