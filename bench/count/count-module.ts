/**
 * Counting probe for `bench/count/dispatch-count.ts`, loaded as a module on a bench machine:
 * wraps this worker's `Atomics` methods with counters and turns on V8's precise coverage with
 * call counts (node:inspector, same-thread session), so a window of the local workload yields
 * exact Atomics operations and function calls. Never loaded by the bench itself: counting slows
 * every call.
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { defineModule } from 'tasklet-rt';

const OPS = [
  'load',
  'store',
  'add',
  'sub',
  'and',
  'or',
  'xor',
  'exchange',
  'compareExchange',
  'wait',
  'notify',
];
const counts: Record<string, number> = {};
let wrapped = false;
const session = new Session();

interface ScriptCoverage {
  url: string;
  functions: { functionName: string; ranges: { count: number; startOffset: number }[] }[];
}

function wrapAtomics(): void {
  if (wrapped) return;
  wrapped = true;
  const atomics = Atomics as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const op of OPS) {
    const original = atomics[op];
    counts[op] = 0;
    atomics[op] = (...args: unknown[]) => {
      counts[op]++;
      return original.apply(Atomics, args);
    };
  }
}

export function threadCpuNs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
}

function post<T>(method: string, params?: object): T {
  let result: T | undefined;
  let failure: Error | null = null;
  session.post(method, params ?? {}, (error, value) => {
    failure = error;
    result = value as T;
  });
  if (failure !== null) throw failure;
  return result as T;
}

export default defineModule({
  name: 'bench-count',
  calls: {
    /** This thread's time on a host core so far, in ns (Linux schedstat). */
    'count.cpu-ns': () => threadCpuNs(),
    'count.start': () => {
      wrapAtomics();
      session.connect();
      post('Profiler.enable');
      post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
      post('Profiler.takePreciseCoverage'); // zero the counters
      for (const op of OPS) counts[op] = 0;
      return null;
    },
    'count.take': () => {
      const atomics = { ...counts };
      const { result } = post<{ result: ScriptCoverage[] }>('Profiler.takePreciseCoverage');
      post('Profiler.stopPreciseCoverage');
      session.disconnect();
      const calls: Record<string, number> = {};
      for (const script of result) {
        const file = script.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '');
        for (const fn of script.functions) {
          const count = fn.ranges[0]?.count ?? 0;
          if (count === 0 || fn.functionName === '') continue;
          const key = `${file} ${fn.functionName}`;
          calls[key] = (calls[key] ?? 0) + count;
        }
      }
      return { atomics, calls };
    },
  },
});
