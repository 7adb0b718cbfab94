/**
 * Controlled mode, the CPU side: only the CPU holding the baton runs. At every shared access
 * and interrupt point it makes a scheduling decision (control-strategy.ts) and, if another CPU
 * is picked, hands the baton over and waits for it to come back. Spin loops yield; idle loops
 * and sleeping waits block until a kick, an interrupt or their deadline, in virtual time.
 *
 * It plugs into the door (shm/door.ts) as the CPU's scheduler; in free-running mode nothing is
 * installed and the door's waits sleep with Atomics.wait.
 */
import { setVirtualClock } from '../shm/clock.ts';
import { plain_inc, raw_load, setCpuScheduler, setMessageHook } from '../shm/door.ts';
import { C_HEARTBEAT, G_STOP } from '../shm/layout.ts';
import {
  type ControlBlock,
  type ControlParams,
  D_CLOCK_NS,
  DC_DEADLINE_NS,
  FREE,
  free_all,
  I_EPOCH,
  I_MSGS_SENT,
  I_TURN,
  IC_STATE,
  IC_WAKE_SEQ,
  pass_baton,
  RunState,
  viewControlBlock,
} from './block.ts';
import { decide } from './decide.ts';

let block: ControlBlock | null = null;
let me = -1;
/** This CPU's block in machine memory (for the heartbeat). */
let cpuBase = 0;
let nrCpus = 0;
/** This CPU's decisions since the run began (a decision log entry names the switch by it). */
let localSteps = 0;
let seenEpoch = 0;
const epochHooks: (() => void)[] = [];

/** Checks of the baton before sleeping (ControlledOptions.batonSpins). */
let spinsBeforeSleep = 0;
const SLEEP_MS = 50;

/** Local scheduling state to reset when a new controlled run begins (so runs replay alike). */
export function on_control_epoch(reset: () => void): void {
  epochHooks.push(reset);
}

function stopping(): boolean {
  return raw_load(G_STOP) !== 0;
}

/**
 * The machine is stopping: this CPU runs free (real time, real waits) to its exit, so that
 * nothing waits for a baton or a virtual clock that no longer moves.
 */
function detach(): void {
  block = null;
  setVirtualClock(null);
  setCpuScheduler(null);
}

/** Waits until this CPU holds the baton (or the machine stops and every CPU runs free). */
function wait_turn(): void {
  const b = block!;
  const mine = b.go(me);
  for (let spins = 0; ; spins++) {
    const turn = Atomics.load(b.i32, I_TURN);
    if (turn === FREE || stopping()) {
      detach();
      return;
    }
    if (turn === me) break;
    if (spins < spinsBeforeSleep) continue;
    const seq = Atomics.load(b.i32, mine);
    if (Atomics.load(b.i32, I_TURN) === me) break;
    Atomics.wait(b.i32, mine, seq, SLEEP_MS);
    // Waiting for the baton is progress as far as the soft-lockup watchdog is concerned.
    plain_inc(cpuBase + C_HEARTBEAT);
  }
  const epoch = Atomics.load(b.i32, I_EPOCH);
  if (epoch !== seenEpoch) {
    seenEpoch = epoch;
    localSteps = 0;
    for (const reset of epochHooks) reset();
  }
}

function handTo(next: number): void {
  pass_baton(block!, next);
  wait_turn();
}

function decideAs(state: RunState): void {
  const b = block!;
  if (Atomics.load(b.i32, I_TURN) === FREE) {
    detach();
    return;
  }
  b.i32[b.icpu(me) + IC_STATE] = state;
  if (stopping()) {
    free_all(b);
    detach();
    return;
  }
  const next = decide(b, me, nrCpus, ++localSteps);
  if (next !== me) handTo(next);
}

/** A decision point: before every shared access and at every interrupt point. */
function control_point(): void {
  decideAs(RunState.Running);
}

/** A spin-loop iteration: let the CPUs that can make progress run first. */
function control_yield(): void {
  decideAs(RunState.Yielded);
}

/**
 * Idle or asleep until the wake word moves past `wakeSeq`, an interrupt is pending (unless
 * `parked`) or virtual time reaches `deadlineMs`. Returns when this CPU runs again; the caller
 * re-checks what it waits for.
 */
function control_block(wakeSeq: number, deadlineMs: number, parked: boolean): void {
  const b = block!;
  b.i32[b.icpu(me) + IC_WAKE_SEQ] = wakeSeq;
  b.f64[b.dcpu(me) + DC_DEADLINE_NS] = deadlineMs * 1e6;
  decideAs(parked ? RunState.Parked : RunState.Blocked);
  b.i32[b.icpu(me) + IC_STATE] = RunState.Running;
}

/** Counts a message to the controller: it takes the baton back to read it. */
function count_message(): void {
  if (block !== null) Atomics.add(block.i32, I_MSGS_SENT, 1);
}

/** At boot, before GO: the clock is virtual and messages are counted from here on. */
export function attach_control(sab: SharedArrayBuffer, params: ControlParams): void {
  block = viewControlBlock(sab, params);
  nrCpus = params.nrCpus;
  spinsBeforeSleep = params.batonSpins;
  setMessageHook(count_message);
  setVirtualClock(block.f64, D_CLOCK_NS);
}

/** Once the machine says go: from now on this CPU runs only while it holds the baton. */
export function start_control(cpu: number, base: number): void {
  me = cpu;
  cpuBase = base;
  setCpuScheduler({
    point: control_point,
    yield: control_yield,
    block: control_block,
  });
  wait_turn();
}
