/**
 * The drain's view of the work items and timers (controller side): idle when every successful
 * queueing ran or was cancelled, every arm fired or was deleted, no callback or call is in
 * progress and no interrupt has a call left to make. What stays outstanding once the last
 * expiry is well past is the finding: a lost timer re-arm (T4), a queueing never run (W5).
 * Whether the drain may end also asks the kernel (as the tasklet drain reads tasklet states): a
 * fire counts the arms before it as it starts, so the records alone can look idle while a re-arm
 * made just then is still pending. No verdict reads the kernel's state.
 */
import {
  C_RUNNING_TIMER,
  type MachineMemory,
  TM_LIST,
  WK_FINISHED,
  WK_STARTED,
  WK_STATE,
  WORK_STRUCT_PENDING,
} from '../../shm/layout.ts';
import { violation } from '../oracles/guarantees.ts';
import { R } from '../stress/bh-shadow.ts';
import {
  B,
  H_ARMED,
  H_LAST_EXPIRES,
  H_MAILBOX,
  H_TIMER_IDS,
  H_WORK_IDS,
  MAILBOX_END,
  NR_TIMERS,
  NR_WORKS,
  timerName,
  workName,
  wrec,
  xrec,
} from './bh-layout.ts';
import type { FuzzViolation } from './oracles.ts';

/** jiffies past the last expiry after which an arm not yet fired is lost. */
const GRACE_JIFFIES = 5;

const at = (bh: Int32Array, r: number, field: number): number => Atomics.load(bh, r + field);

function busy(bh: Int32Array, r: number): boolean {
  return at(bh, r, R.Inside) !== 0 || at(bh, r, R.ArmIn) !== 0 || at(bh, r, B.CancelIn) !== 0;
}

const workLeft = (bh: Int32Array, w: number): number =>
  at(bh, wrec(w), R.Arms) - at(bh, wrec(w), R.Runs) - at(bh, wrec(w), R.Covered);
const timerLeft = (bh: Int32Array, x: number): number => at(bh, xrec(x), R.Arms) - at(bh, xrec(x), R.Covered);

/** The kernel has no fuzz work item pending or running, no fuzz timer pending or running. */
function kernelQuiet(bh: Int32Array, { mem, layout }: MachineMemory): boolean {
  for (let w = 0; w < NR_WORKS; w++) {
    const addr = layout.work(Atomics.load(bh, H_WORK_IDS + w));
    if ((Atomics.load(mem, addr + WK_STATE) & (1 << WORK_STRUCT_PENDING)) !== 0) return false;
    if (Atomics.load(mem, addr + WK_STARTED) !== Atomics.load(mem, addr + WK_FINISHED)) return false;
  }
  const running = new Set<number>();
  for (let cpu = 0; cpu < layout.params.nrCpus; cpu++)
    running.add(Atomics.load(mem, layout.cpu(cpu) + C_RUNNING_TIMER));
  for (let x = 0; x < NR_TIMERS; x++) {
    const id = Atomics.load(bh, H_TIMER_IDS + x);
    if (Atomics.load(mem, layout.timer(id) + TM_LIST) !== 0 || running.has(id + 1)) return false;
  }
  return true;
}

/** The interrupt's requests, then the records, then the kernel (in that order: see drain.ts's idle). */
export function bhIdle(bh: Int32Array, memory: MachineMemory): boolean {
  for (let w = H_MAILBOX; w < MAILBOX_END; w++) if (Atomics.load(bh, w) !== 0) return false;
  for (let w = 0; w < NR_WORKS; w++) if (workLeft(bh, w) !== 0 || busy(bh, wrec(w))) return false;
  for (let x = 0; x < NR_TIMERS; x++) if (timerLeft(bh, x) > 0 || busy(bh, xrec(x))) return false;
  return kernelQuiet(bh, memory);
}

/** An item left outstanding with nothing in progress once every expiry is past, or null. */
export function bhStuck(bh: Int32Array, jiffies: number): FuzzViolation | null {
  const last = Atomics.load(bh, H_LAST_EXPIRES);
  if (Atomics.load(bh, H_ARMED) !== 0 && ((jiffies - last) | 0) < GRACE_JIFFIES) return null;
  for (let x = 0; x < NR_TIMERS; x++) {
    const left = timerLeft(bh, x);
    if (left > 0 && !busy(bh, xrec(x)))
      return violation(
        'timer-fires',
        -1,
        cpuOf(bh, xrec(x)),
        `${timerName(x)}: ${left} arm(s) neither fired nor were deleted ${GRACE_JIFFIES} jiffies after the last expiry${where(bh, xrec(x))}`,
      );
  }
  for (let w = 0; w < NR_WORKS; w++) {
    const r = wrec(w);
    if (workLeft(bh, w) !== 0 && !busy(bh, r))
      return violation(
        'work-runs',
        -1,
        cpuOf(bh, r),
        `${workName(w)}: queued successfully ${at(bh, r, R.Arms)} time(s) but ran ${at(bh, r, R.Runs)} and was cancelled ${at(bh, r, R.Covered)} time(s) after the drain${where(bh, r)}`,
      );
  }
  return null;
}

const cpuOf = (bh: Int32Array, r: number): number[] =>
  at(bh, r, R.LastCpu) > 0 ? [at(bh, r, R.LastCpu) - 1] : [];
const where = (bh: Int32Array, r: number): string =>
  at(bh, r, R.LastCpu) > 0 ? ` (last armed or queued for CPU${at(bh, r, R.LastCpu) - 1})` : '';
