/** Boots a fuzz machine: the fuzz module on every CPU, the mutant, and where its reports go. */
import { fileURLToPath } from 'node:url';
import type { ControlledOptions } from '../../control/driver.ts';
import { Machine } from '../../machine/index.ts';
import { injectMutant } from '../inject.ts';
import type { FuzzViolation } from './oracles.ts';
import type { FuzzReports } from './reports.ts';

const fuzzModule = fileURLToPath(new URL('./module.ts', import.meta.url));
const FUZZ_HZ = 1000;
/** The fuzz module's tasklets, and the table the machine gives them (the view's walks are bounded by it). */
export const FUZZ_TABLE_SIZE = 256;

export interface FuzzBootOptions {
  cpus: number;
  inject?: string;
  controlled?: ControlledOptions;
}

export function bootFuzzMachine(
  options: FuzzBootOptions,
  reports: FuzzReports,
  onFault: () => void,
): Promise<Machine> {
  return Machine.boot({
    cpus: options.cpus,
    hz: FUZZ_HZ,
    maxTasklets: FUZZ_TABLE_SIZE,
    modules: [fuzzModule],
    controlled: options.controlled,
    ...injectMutant(options.inject),
    onPrintk: (cpu, level, text) => reports.printk(level, text, cpu),
    onReport: (_cpu, key, value) => {
      if (key === 'violation') reports.violation(value as FuzzViolation);
    },
    onOops: (oops) => reports.oops(oops),
    onFault,
  });
}
