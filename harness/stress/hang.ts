/** A hang is a fault: it names what did not happen and what each CPU waits for. */
import { hangMessage } from '../oracles/findings.ts';
import type { StressContext } from './context.ts';

export function reportHang({ view, workload, verdicts }: StressContext, what: string): void {
  const { names } = workload;
  const callbackOn = (id: number): string => {
    const i = names.index(id);
    const cpu = i >= 0 ? workload.callbackCpu(i) : -1;
    return cpu >= 0 ? `, its callback running on CPU${cpu}` : '';
  };
  verdicts.fault(hangMessage(view, names, what, callbackOn));
}
