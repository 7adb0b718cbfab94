/**
 * The bench run: boots machines at each CPU count, runs the selected workloads on the runtime,
 * the bare ceiling and piscina, and collects everything into one BenchResults.
 */
import { availableParallelism, cpus as hostCpus, loadavg } from 'node:os';
import { measureBuiltBoot } from './boot/boot.ts';
import { describeLoad, type LoadPart, startLoad } from './load.ts';
import { type BenchMachine, bootBenchMachine } from './machine.ts';
import { bestPiscinaConfig, measurePiscina, type PiscinaConfig } from './piscina/piscina.ts';
import type {
  BenchResults,
  BootRow,
  FuzzRow,
  LatencyRow,
  MachineRow,
  ThroughputRow,
  Workload,
} from './results.ts';
import { checkTargets } from './targets.ts';
import { FULL_WARMUP, type Window } from './window.ts';
import { measureBare } from './workloads/baseline-bare.ts';
import { measureCrossCpu } from './workloads/cross-cpu.ts';
import { measureIrqLatency } from './workloads/irq-latency.ts';
import { measureLocal, measureLocalWithBare } from './workloads/local.ts';
import { measureShared } from './workloads/shared.ts';

export interface BenchSettings {
  cpus: number;
  durationMs: number;
  runs: number;
  only: Workload[];
  quick: boolean;
  idlePollUs: number;
  /** Host load run beside the bench (`--load`); none when empty. */
  load: LoadPart[];
  /**
   * Programs per second of a fuzz campaign on `cpus` CPUs over about `ms` (boot excluded). The
   * CLI provides it: fuzz lives in harness/, which bench/ does not import.
   */
  fuzzRate?: (
    controlled: boolean,
    cpus: number,
    ms: number,
  ) => Promise<{ perSecond: number; seconds: number }>;
  /** One line per step, for progress on stderr. */
  log: (line: string) => void;
}

/** Sizes: the full run, and --quick (tiny, for smoke tests). */
const SIZES = {
  full: {
    ...FULL_WARMUP,
    localTasklets: 16,
    sharedTasklets: 16,
    busyTasklets: 16,
    piscinaProbeMs: 400,
  },
  quick: {
    warmupMs: 30,
    settleMaxMs: 0,
    localTasklets: 4,
    sharedTasklets: 4,
    busyTasklets: 4,
    piscinaProbeMs: 60,
  },
};

export async function runBench(s: BenchSettings): Promise<BenchResults> {
  if (s.load.length === 0) return measureAll(s);
  s.log(`load: starting ${describeLoad(s.load)}`);
  const stopLoad = await startLoad(s.load);
  try {
    return await measureAll(s);
  } finally {
    await stopLoad();
  }
}

async function measureAll(s: BenchSettings): Promise<BenchResults> {
  const loadBefore = loadavg()[0];
  const size = s.quick ? SIZES.quick : SIZES.full;
  const window: Window = {
    warmupMs: size.warmupMs,
    settleMaxMs: size.settleMaxMs,
    durationMs: s.durationMs,
    runs: s.runs,
  };
  const want = (w: Workload) => s.only.includes(w);
  const throughput: ThroughputRow[] = [];
  const latency: LatencyRow[] = [];
  const machines: MachineRow[] = [];
  const counts = want('scaling') ? Array.from({ length: s.cpus }, (_, i) => i + 1) : [s.cpus];
  let piscinaConfig: PiscinaConfig | null = null;

  const withMachine = async (cpus: number, idlePollUs: number, body: (bm: BenchMachine) => Promise<void>) => {
    s.log(`boot ${cpus} CPU${cpus > 1 ? 's' : ''} (idlePollUs ${idlePollUs})`);
    const bm = await bootBenchMachine(cpus, idlePollUs);
    machines.push(bm.cost);
    try {
      await body(bm);
    } finally {
      await bm.machine.shutdown();
    }
  };
  const step = async <T>(what: string, run: () => Promise<T>, into: T[]) => {
    s.log(what);
    into.push(await run());
  };

  for (const cpus of counts) {
    const atTop = cpus === s.cpus;
    const local = want('local') || want('scaling');
    const shared = want('shared') || want('scaling');
    await withMachine(cpus, s.idlePollUs, async (bm) => {
      const tag = `${cpus} CPU${cpus > 1 ? 's' : ''}`;
      const localParams = { tasklets: size.localTasklets, hi: false };
      if (local && (atTop || want('scaling')) && want('baselines')) {
        s.log(`local @ ${tag}, alternating with bare local`);
        throughput.push(...(await measureLocalWithBare(bm, localParams, window)));
      } else if (local && (atTop || want('scaling')))
        await step(`local @ ${tag}`, () => measureLocal(bm, localParams, window), throughput);
      if (shared && (atTop || want('scaling')))
        await step(
          `shared @ ${tag}`,
          () => measureShared(bm, { tasklets: size.sharedTasklets, hi: false }, window),
          throughput,
        );
      if (want('hi') && atTop) {
        await step(
          `local-hi @ ${tag}`,
          () => measureLocal(bm, { tasklets: size.localTasklets, hi: true }, window),
          throughput,
        );
        await step(
          `shared-hi @ ${tag}`,
          () => measureShared(bm, { tasklets: size.sharedTasklets, hi: true }, window),
          throughput,
        );
      }
      if (want('cross-cpu') && atTop && cpus >= 2)
        await step(`cross-cpu @ ${tag}`, () => measureCrossCpu(bm, window), latency);
    });
    if (want('baselines') && (atTop || want('scaling'))) {
      if (shared)
        await step(
          `bare shared @ ${cpus}`,
          () => measureBare(cpus, 'shared', size.sharedTasklets, window),
          throughput,
        );
      if (piscinaConfig === null) {
        s.log('piscina: trying configurations');
        piscinaConfig = await bestPiscinaConfig(s.cpus, size.piscinaProbeMs);
      }
      const config = piscinaConfig;
      await step(`piscina @ ${cpus}`, () => measurePiscina(cpus, config, window), throughput);
    }
  }

  if (want('latency')) {
    // One CPU and the controller: two threads on two host cores, so neither waits for a core.
    await withMachine(1, s.idlePollUs, async (bm) => {
      await step(
        'latency, busy target',
        () => measureIrqLatency(bm, 'busy', size.busyTasklets, window),
        latency,
      );
      await step('latency, idle target + spin', () => measureIrqLatency(bm, 'idle-spin', 0, window), latency);
    });
    await withMachine(1, 0, async (bm) => {
      await step(
        'latency, idle target, sleeping',
        () => measureIrqLatency(bm, 'idle-sleep', 0, window),
        latency,
      );
    });
  }

  let fuzz: FuzzRow[] | undefined;
  if (want('fuzz') && s.fuzzRate !== undefined) {
    fuzz = [];
    // Ten seconds at least: a controlled campaign's rate swings from one second to the next
    // (25-160 programs/s on a 2-core host), and in a short window one swing is the figure.
    const ms = s.quick ? 700 : Math.max(10_000, 2 * s.durationMs);
    for (const controlled of [false, true]) {
      const mode = controlled ? 'controlled' : 'free-running';
      s.log(`fuzz, ${mode}, 2 CPUs`);
      const rate = await s.fuzzRate(controlled, 2, ms);
      fuzz.push({ mode, cpus: 2, programsPerSecond: rate.perSecond, seconds: rate.seconds });
    }
  }
  let boot: BootRow[] | undefined;
  if (want('boot')) {
    s.log('boot from the build (dist/)');
    boot = (await measureBuiltBoot(counts.length > 1 ? counts : [1, s.cpus], s.quick ? 1 : 3)) ?? [];
    if (boot.length === 0) s.log('boot: no build (npm run build): skipped');
  }

  const settings = {
    cpus: s.cpus,
    durationMs: s.durationMs,
    runs: s.runs,
    warmupMs: window.warmupMs,
    settleMaxMs: window.settleMaxMs,
    idlePollUs: s.idlePollUs,
    localTasklets: size.localTasklets,
    sharedTasklets: size.sharedTasklets,
    quick: s.quick,
    only: s.only,
    load: describeLoad(s.load),
  };
  return {
    startedAt: new Date().toISOString(),
    host: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpuModel: hostCpus()[0]?.model ?? 'unknown',
      cores: availableParallelism(),
      loadAverage: { atStart: loadBefore, atEnd: loadavg()[0] },
    },
    settings,
    throughput,
    latency,
    machines,
    ...(fuzz ? { fuzz } : {}),
    ...(boot ? { boot } : {}),
    // A --quick run is a smoke test: tiny sizes, short runs, figures not worth a verdict.
    targets: s.quick ? [] : checkTargets({ throughput, latency, settings, fuzz, boot }),
  };
}
