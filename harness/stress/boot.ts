/** Boots the machine a stress run drives: the workload module, the mutant, tracing, and where reports go. */
import { fileURLToPath } from 'node:url';
import { Machine } from '../../machine/index.ts';
import { injectMutant } from '../inject.ts';
import type { StressOptions } from './options.ts';
import type { ViolationReport } from './result.ts';
import type { Verdicts } from './verdicts.ts';

const workloadModule = fileURLToPath(new URL('./workload.ts', import.meta.url));

export function bootStressMachine(
  options: StressOptions,
  traceCapacity: number,
  verdicts: Verdicts,
): Promise<Machine> {
  return Machine.boot({
    cpus: options.cpus,
    maxTasklets: Math.max(4096, options.tasklets + 64),
    modules: [workloadModule],
    controlled: options.controlled,
    ...injectMutant(options.inject),
    trace: traceCapacity > 0 ? { capacity: traceCapacity } : undefined,
    onPrintk: () => {},
    onReport: (_cpu, key, value) => {
      if (key === 'violation') verdicts.violation(value as ViolationReport);
    },
    // --oops=continue: counted in the report; the run still ends as a fault.
    onOops: (oops) => verdicts.oops(oops, options.oopsContinue === true),
    onFault: (fault) => verdicts.fault(fault.message),
  });
}
