/**
 * The controller's switch for idle-time skipping (kernel/idle-skip.ts): on while asked for and
 * no hotplug step is in progress. A dying or rising CPU is not online, so it would not hold the
 * clock back, and skipping on the others would run out the step's machine-time limit in a few
 * real milliseconds; while a step runs, the clock keeps the host's pace.
 */
import { skippedMs } from '../shm/clock.ts';
import { G_IDLE_SKIPS, G_SKIP_IDLE } from '../shm/layout.ts';

export class IdleSkipping {
  private wanted = false;
  private holds = 0;

  constructor(private readonly mem: Int32Array) {}

  set(on: boolean): void {
    this.wanted = on;
    this.publish();
  }

  /** Runs `step` with skipping held off. */
  async holdOff<T>(step: () => Promise<T>): Promise<T> {
    this.holds++;
    this.publish();
    try {
      return await step();
    } finally {
      this.holds--;
      this.publish();
    }
  }

  /** Skips so far: how many, and the machine time they skipped. */
  skips(): { count: number; ms: number } {
    return { count: Atomics.load(this.mem, G_IDLE_SKIPS) >>> 0, ms: skippedMs() };
  }

  private publish(): void {
    Atomics.store(this.mem, G_SKIP_IDLE, this.wanted && this.holds === 0 ? 1 : 0);
  }
}
