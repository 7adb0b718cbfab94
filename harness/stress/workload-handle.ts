/**
 * The controller's handle on the stress workload (./workload.ts, on the CPUs): its setup call,
 * the shadow words it shares, the phase word that starts and ends drains, and its tasklets'
 * names. The CPUs read these words with plain Atomics; the controller only sets the phase.
 */
import type { Machine } from '../../machine/index.ts';
import type { MachineView } from '../../machine/view.ts';
import { first_count_off_bounds } from '../oracles/disable-count.ts';
import type { TaskletNames } from '../oracles/findings.ts';
import type { Violation } from '../oracles/guarantees.ts';
import {
  F_INSIDE,
  INSIDE_TRYLOCK,
  insideCpu,
  type RecentEvent,
  recent_events,
  tw,
} from '../oracles/shadow.ts';
import type { StressOptions } from './options.ts';
import { Phase, S_DRAIN_ACK, S_EPOCH, S_FIRST_ID, S_PHASE } from './shadow.ts';
import type { StressSetup } from './workload.ts';

export class WorkloadHandle {
  readonly sh: Int32Array;
  private firstId = 0;

  constructor(
    machine: Machine,
    private readonly tasklets: number,
  ) {
    this.sh = machine.sharedWords('stress-shadow');
  }

  /** Allocates and lays out the tasklets (on CPU0); they are contiguous from the first id. */
  async setup(machine: Machine, options: StressOptions): Promise<void> {
    const setup: StressSetup = {
      tasklets: options.tasklets,
      seed: options.seed,
      delayUs: options.delayUs ?? 20,
      reschedPct: options.reschedPct ?? 30,
      burst: options.burst ?? 4,
      oracles: options.oracles,
    };
    await machine.call(0, 'stress_setup', setup);
    await machine.call(0, 'stress_bh_setup'); // the timers and work items (bh-workload.ts)
    this.firstId = Atomics.load(this.sh, S_FIRST_ID);
  }

  /** Runtime ids of the stress tasklets, in index order. */
  ids(): number[] {
    return Array.from({ length: this.tasklets }, (_, i) => this.firstId + i);
  }

  readonly names: TaskletNames = {
    index: (id) => {
      const i = id - this.firstId;
      return i >= 0 && i < this.tasklets ? i : -1;
    },
    name: (i) => `stress${i}`,
  };

  /** Runtime id → name, for the trace. */
  nameMap(): Map<number, string> {
    return new Map(this.ids().map((id, i) => [id, this.names.name(i)]));
  }

  setPhase(phase: Phase): void {
    Atomics.store(this.sh, S_PHASE, phase);
  }

  /** Asks every CPU's task to stop making work and ack epoch `epoch`. */
  beginDrain(epoch: number): void {
    Atomics.store(this.sh, S_EPOCH, epoch);
    this.setPhase(Phase.Drain);
  }

  acked(cpus: readonly number[], epoch: number): boolean {
    return cpus.every((cpu) => Atomics.load(this.sh, S_DRAIN_ACK + cpu) === epoch);
  }

  /**
   * The first tasklet whose disable count left the bounds the workload's own disables and
   * enables allow (a lost update: its kill, its drain, waits for ever), or null.
   */
  countOffBounds(view: MachineView): Violation | null {
    const ids = this.ids();
    return first_count_off_bounds(this.sh, ids.length, this.names.name, (i) => view.tasklet(ids[i]).count);
  }

  /** The CPU running stress tasklet i's callback by the shadow's account, -1 for none. */
  callbackCpu(i: number): number {
    const inside = Atomics.load(this.sh, tw(i, F_INSIDE));
    return inside & INSIDE_TRYLOCK ? -1 : insideCpu(inside);
  }

  events(i: number): RecentEvent[] {
    return recent_events(this.sh, i);
  }
}
