/**
 * Test driver for idle-time skipping: process-context tasks that spin or busy-wait, each
 * returning how much real time and how much machine time its wait took.
 */
import { cpu_relax, defineModule, type TaskBody, udelay } from 'tasklet-rt';
import { machineMs } from '../../shm/clock.ts';

export interface Elapsed {
  realMs: number;
  machineMs: number;
}

function* timed(wait: () => void): TaskBody<Elapsed> {
  const [real, machine] = [performance.now(), machineMs()];
  wait();
  return { realMs: performance.now() - real, machineMs: machineMs() - machine };
}

export default defineModule({
  name: 'clock_probe',
  tasks: {
    /** Spins (cpu_relax) for `ms` of real time: the CPU is busy, not waiting for the clock. */
    spin: (ms) =>
      timed(() => {
        for (const end = performance.now() + (ms as number); performance.now() < end; ) cpu_relax();
      }),
    /** udelay(`us`): waits for the machine clock. */
    udelay: (us) => timed(() => udelay(us as number)),
  },
});
