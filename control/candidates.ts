/**
 * The CPUs one decision chooses from: decide.ts sorts the enabled CPUs into `cpus` (best class
 * first) and records each CPU's class; the strategies pick among them. Module-level arrays, so
 * a decision allocates nothing.
 */
export const NOT_ENABLED = 0;
/** Running, or blocked with its wake-up due. */
export const RUNNABLE = 1;
/** Spinning in a wait: runs only when no RUNNABLE CPU is enabled. */
export const YIELDED = 2;

export const candidates = {
  cpus: new Int32Array(64),
  classes: new Int8Array(64),
};

export function reserveCandidates(nrCpus: number): void {
  if (candidates.cpus.length >= nrCpus) return;
  candidates.cpus = new Int32Array(nrCpus);
  candidates.classes = new Int8Array(nrCpus);
}

/** Whether `cpu` is among the first `n` candidates. */
export function isCandidate(n: number, cpu: number): boolean {
  for (let k = 0; k < n; k++) if (candidates.cpus[k] === cpu) return true;
  return false;
}
