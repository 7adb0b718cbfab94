/** Stress hotplug: each step takes one CPU down, or brings the offline one back. */
import type { StressContext } from './context.ts';
import { reportHang } from './hang.ts';

/** Returns whether a CPU changed state (a CPU that would not go down is a hang). */
export async function hotplugStep(
  ctx: StressContext,
  choose: (online: number[]) => number,
): Promise<boolean> {
  const { machine, options } = ctx;
  if (options.cpus < 2) return false;
  const online = machine.onlineCpus();
  if (online.length < options.cpus) {
    const offline = [...Array(options.cpus).keys()].filter((cpu) => !online.includes(cpu));
    await machine.cpuUp(offline[0]);
    return true;
  }
  const victim = choose(online);
  try {
    await machine.cpuDown(victim);
  } catch {
    reportHang(ctx, `CPU${victim} did not reach the offline point`);
    return false;
  }
  return true;
}
