/**
 * The controller: boots N CPU workers over one SharedArrayBuffer, talks to them (interrupts,
 * proc reads, tasks, hotplug), collects their logs and oopses, and shuts them all down.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { type ControlledOptions, Controller } from '../control/driver.ts';
import { cpu_online, set_cpu_online } from '../kernel/cpumask.ts';
import { CALL_FUNCTION_IRQ, raise_irq } from '../kernel/irq.ts';
import type { OopsReport } from '../kernel/oops.ts';
import type { LogLevel } from '../kernel/printk.ts';
import { FIRST_DYNAMIC_PID } from '../kernel/sched.ts';
import { boot_jiffies, jiffies } from '../kernel/tick.ts';
import { kick_cpu } from '../kernel/wake.ts';
import { machineMs, setBootEpoch } from '../shm/clock.ts';
import { read_comm } from '../shm/comm.ts';
import {
  C_HI_HEAD,
  C_HI_TAIL,
  C_REQUEST,
  C_STATE,
  C_VEC_HEAD,
  C_VEC_TAIL,
  CpuRequest,
  CpuState,
  createMemory,
  G_GO,
  G_HZ,
  G_JIFFIES,
  G_MAGIC,
  G_MAX_TASKLETS,
  G_NEXT_PID,
  G_NR_CPUS,
  G_OOPSES,
  G_STOP,
  G_WARNINGS,
  type LayoutParams,
  MAGIC,
  MAX_CPUS,
  type MachineMemory,
  NR_IRQS,
} from '../shm/layout.ts';
import { attachMemory, shm } from '../shm/memory.ts';
import type { BootMetadata, CpuCommandBody, CpuMessage, CpuWorkerData } from '../shm/protocol.ts';
import {
  eventsWritten,
  readTrace,
  type TraceRecord,
  traceBufferBytes,
  viewTraceBuffer,
} from '../shm/trace-ring.ts';
import { moduleUrl } from './module-resolve.ts';
import { render_interrupts, render_softirqs } from './procfs.ts';
import { type LockupReport, Watchdog } from './watchdog.ts';
import { cpuWorkerEntry } from './worker-entry.ts';

export interface MachineOptions {
  /** Emulated CPUs, 1..64. Default: this host's cores. */
  cpus?: number;
  /** Timer ticks per second. Default 250. */
  hz?: number;
  /** Tasklet table slots (static + run time). Default 4096. */
  maxTasklets?: number;
  /** Module files (paths or URLs) every CPU loads, in this order. */
  modules?: (string | URL)[];
  /** Code every CPU imports before the modules (bug injection, tracers). */
  preload?: (string | URL)[];
  preloadOptions?: Record<string, unknown>;
  /** How long an idle CPU polls before it sleeps, in microseconds. Default 0 (sleep at once). */
  idlePollUs?: number;
  /** Receives every printk line. Default: warnings and worse go to stderr. */
  onPrintk?: (cpu: number, level: LogLevel, text: string) => void;
  /** Receives every oops; the default only records it in `oopses`. */
  onOops?: (report: OopsReport) => void;
  /** Receives reports that modules send (`report(key, value)`). */
  onReport?: (cpu: number, key: string, value: unknown) => void;
  /** Called once when a CPU worker dies unexpectedly. */
  onFault?: (fault: MachineFault) => void;
  /** Record every tracepoint into per-CPU rings of this many events (see traceRecords). */
  trace?: { capacity: number };
  /**
   * Soft-lockup threshold in seconds (the kernel's watchdog_thresh): a CPU that makes no
   * progress this long is reported as a fault and its worker terminated. 0 = off. Default 10.
   */
  watchdogThresh?: number;
  /** Seconds a task may wait on one tasklet before it is reported as a hung task (a fault). 0 = off. Default 120. */
  hungTaskTimeout?: number;
  /**
   * Controlled mode: one CPU runs at a time, and a seeded strategy picks which at every shared
   * access and interrupt point (see Machine.control). The machine clock becomes virtual.
   */
  controlled?: ControlledOptions;
  /** Per-worker V8 limits (an out-of-memory worker is reported as a fault). */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

export interface MachineFault {
  cpu: number;
  message: string;
}

export class MachineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MachineError';
  }
}

/** A module file that cannot be loaded: missing, not a module, a syntax error, no default export. */
export class BadModuleError extends MachineError {
  constructor(message: string) {
    super(message);
    this.name = 'BadModuleError';
  }
}

/** Defaults for options a caller did not set (the CLI's --watchdog-thresh reaches every machine). */
export const machineDefaults: Pick<MachineOptions, 'watchdogThresh' | 'hungTaskTimeout'> = {};

const DEFAULT_WATCHDOG_THRESH = 10;
const DEFAULT_HUNG_TASK_TIMEOUT = 120;

const DEFAULT_HZ = 250;
const DEFAULT_MAX_TASKLETS = 4096;
const REQUEST_TIMEOUT_MS = 10_000;
const SHUTDOWN_GRACE_MS = 2_000;

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MachineError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

let attached: Machine | null = null;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

export class Machine {
  readonly dmesg: { cpu: number; level: LogLevel; text: string }[] = [];
  readonly oopses: OopsReport[] = [];
  readonly faults: MachineFault[] = [];
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly stopped = new Set<number>();
  private nextRequest = 1;
  private sharedWordMap: Record<string, [number, number]> = {};
  /** The loaded modules, as CPU0 reported them at boot. */
  metadata: BootMetadata = { modules: [], procs: [], irqs: {}, staticTasklets: [], callbacks: [] };
  private readonly traceSab: SharedArrayBuffer | null;
  private shuttingDown = false;
  private down = false;
  private watchdog: Watchdog | null = null;
  private shutdownDone: Promise<void> | null = null;
  /** Messages received from the CPUs (controlled mode waits until it has them all). */
  private received = 0;
  /** The controlled scheduler, in controlled mode; null when the CPUs run free. */
  readonly control: Controller | null;
  bootMs = 0;

  private constructor(
    readonly memory: MachineMemory,
    readonly nrCpus: number,
    private readonly options: MachineOptions,
  ) {
    const capacity = options.trace?.capacity;
    if (capacity !== undefined) checkInt('trace capacity', capacity, 16, 1 << 22);
    this.traceSab =
      capacity === undefined ? null : new SharedArrayBuffer(traceBufferBytes({ nrCpus, capacity }));
    const controlled = options.controlled;
    this.control =
      controlled === undefined
        ? null
        : new Controller(Controller.params(nrCpus, controlled), {
            received: () => this.received,
            failure: () => this.faults[0]?.message ?? null,
          });
  }

  /** Every event still in the trace rings, oldest first (empty when tracing is off). */
  traceRecords(): TraceRecord[] {
    if (this.traceSab === null) return [];
    const params = { nrCpus: this.nrCpus, capacity: this.options.trace!.capacity };
    return readTrace(viewTraceBuffer(this.traceSab, params), params);
  }

  /** Events each CPU has recorded, kept or since overwritten (empty when tracing is off). */
  traceWritten(): number[] {
    if (this.traceSab === null) return [];
    const params = { nrCpus: this.nrCpus, capacity: this.options.trace!.capacity };
    return eventsWritten(viewTraceBuffer(this.traceSab, params), params);
  }

  /** Events each CPU's trace ring keeps (0 when tracing is off). */
  get traceCapacity(): number {
    return this.options.trace?.capacity ?? 0;
  }

  static async boot(options: MachineOptions = {}): Promise<Machine> {
    if (attached !== null && !attached.down) {
      throw new MachineError('a machine is already running in this thread; shut it down first');
    }
    const started = performance.now();
    const nrCpus = checkInt('cpus', options.cpus ?? Math.min(availableParallelism(), MAX_CPUS), 1, MAX_CPUS);
    const hz = checkInt('hz', options.hz ?? DEFAULT_HZ, 10, 10_000);
    const maxTasklets = checkInt('maxTasklets', options.maxTasklets ?? DEFAULT_MAX_TASKLETS, 1, 1 << 20);
    const watchdogThresh = checkInt(
      'watchdogThresh',
      options.watchdogThresh ?? machineDefaults.watchdogThresh ?? DEFAULT_WATCHDOG_THRESH,
      0,
      3600,
    );
    const hungTaskTimeout = checkInt(
      'hungTaskTimeout',
      options.hungTaskTimeout ?? machineDefaults.hungTaskTimeout ?? DEFAULT_HUNG_TASK_TIMEOUT,
      0,
      86_400,
    );
    const params: LayoutParams = { nrCpus, maxTasklets };
    const memory = createMemory(params);
    attachMemory(memory);
    const { mem, layout } = memory;
    mem[G_MAGIC] = MAGIC;
    mem[G_NR_CPUS] = nrCpus;
    mem[G_HZ] = hz;
    mem[G_JIFFIES] = boot_jiffies(hz);
    mem[G_NEXT_PID] = FIRST_DYNAMIC_PID;
    mem[G_MAX_TASKLETS] = maxTasklets;
    for (let cpu = 0; cpu < nrCpus; cpu++) {
      const base = layout.cpu(cpu);
      mem[base + C_VEC_TAIL] = base + C_VEC_HEAD; // empty queue: tail points at head
      mem[base + C_HI_TAIL] = base + C_HI_HEAD;
    }
    // Module code runs only on the CPUs: the controller learns about it from CPU0's boot report.
    const modules = (options.modules ?? []).map(moduleUrl);
    const preload = (options.preload ?? []).map(moduleUrl);

    const machine = new Machine(memory, nrCpus, options);
    attached = machine;
    try {
      await machine.startWorkers(params, modules, preload);
    } catch (error) {
      await machine.shutdown();
      throw error;
    }
    for (let cpu = 0; cpu < nrCpus; cpu++) {
      set_cpu_online(cpu, true);
      mem[layout.cpu(cpu) + C_STATE] = CpuState.Online;
    }
    setBootEpoch(); // time 0 and INITIAL_JIFFIES: the moment every CPU starts
    // Controlled: the CPUs wait for the baton, which the controller holds until it advances.
    machine.control?.beginRun(options.controlled!);
    Atomics.store(mem, G_GO, 1);
    Atomics.notify(mem, G_GO);
    machine.startWatchdog(watchdogThresh, hungTaskTimeout);
    machine.bootMs = performance.now() - started;
    return machine;
  }

  private startWorkers(params: LayoutParams, modules: string[], preload: string[]): Promise<void> {
    const entry = cpuWorkerEntry();
    return new Promise((resolveBoot, rejectBoot) => {
      let ready = 0;
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        const channel = new MessageChannel();
        const data: CpuWorkerData = {
          sab: this.memory.sab,
          layout: params,
          cpu,
          modules,
          preload,
          preloadOptions: this.options.preloadOptions ?? {},
          trace:
            this.traceSab === null ? null : { sab: this.traceSab, capacity: this.options.trace!.capacity },
          idlePollUs: this.options.idlePollUs ?? 0,
          control:
            this.control === null ? null : { sab: this.control.block.sab, params: this.control.block.params },
          commandPort: channel.port2,
        };
        const worker = new Worker(entry, {
          workerData: data,
          transferList: [channel.port2],
          resourceLimits: this.options.resourceLimits,
          stderr: false,
        });
        this.workers.push(worker);
        this.ports.push(channel.port1);
        worker.on('message', (message: CpuMessage) => {
          this.received++;
          if (message.type !== 'ready') return this.onMessage(message);
          if (cpu === 0) {
            this.sharedWordMap = message.sharedWords;
            this.metadata = message.metadata;
          }
          if (++ready === this.nrCpus) resolveBoot();
        });
        worker.on('error', (error) => {
          const fault = { cpu, message: `CPU${cpu} worker crashed: ${error.message}` };
          if (ready < this.nrCpus) {
            // workers/module-load.ts names a module that cannot be loaded: bad input, not a crash.
            rejectBoot(
              error.name === 'BadModuleError'
                ? new BadModuleError(error.message)
                : new MachineError(`boot failed: ${fault.message}`),
            );
          }
          this.fault(fault);
        });
        worker.on('exit', (code) => {
          if (!this.stopped.has(cpu) && !this.shuttingDown) {
            const fault = { cpu, message: `CPU${cpu} worker exited unexpectedly (code ${code})` };
            if (ready < this.nrCpus) rejectBoot(new MachineError(`boot failed: ${fault.message}`));
            this.fault(fault);
          }
          this.stopped.add(cpu);
        });
      }
    });
  }

  private startWatchdog(watchdogThresh: number, hungTaskTimeout: number): void {
    this.watchdog = new Watchdog(
      this.memory,
      this.nrCpus,
      { watchdogThresh, hungTaskTimeout },
      {
        alive: (cpu) => !this.stopped.has(cpu) && !this.faults.some((f) => f.cpu === cpu),
        taskletName: (id) => this.metadata.staticTasklets[id] ?? `tasklet#${id}`,
        onLockup: (report) => this.lockup(report),
      },
    );
    this.watchdog.start();
  }

  /** A soft lockup's CPU will never return to its loop: terminate its worker, then report. */
  private lockup(report: LockupReport): void {
    if (report.kind === 'soft-lockup') {
      this.stopped.add(report.cpu);
      void this.workers[report.cpu].terminate();
    }
    this.fault({ cpu: report.cpu, message: report.message });
  }

  private fault(fault: MachineFault): void {
    if (this.faults.some((f) => f.cpu === fault.cpu)) return;
    this.faults.push(fault);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new MachineError(fault.message));
      this.pending.delete(id);
    }
    this.options.onFault?.(fault);
  }

  private onMessage(message: CpuMessage): void {
    switch (message.type) {
      case 'printk':
        this.dmesg.push({ cpu: message.cpu, level: message.level, text: message.text });
        if (this.options.onPrintk) this.options.onPrintk(message.cpu, message.level, message.text);
        else if (['emerg', 'alert', 'crit', 'err', 'warning'].includes(message.level)) {
          process.stderr.write(`[CPU${message.cpu}] ${message.text}\n`);
        }
        return;
      case 'oops': {
        const { type: _type, ...report } = message;
        this.oopses.push(report);
        this.options.onOops?.(report);
        return;
      }
      case 'report':
        this.options.onReport?.(message.cpu, message.key, message.value);
        return;
      case 'reply': {
        const p = this.pending.get(message.id);
        if (p === undefined) return;
        this.pending.delete(message.id);
        clearTimeout(p.timer);
        if (message.ok) p.resolve(message.value);
        else p.reject(new MachineError(message.error));
        return;
      }
      case 'stopped':
        this.stopped.add(message.cpu);
        return;
      case 'ready':
        return;
    }
  }

  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpus) {
      throw new MachineError(`no CPU ${cpu}: this machine has CPUs 0-${this.nrCpus - 1}`);
    }
  }

  private checkRunning(): void {
    if (this.down || this.shuttingDown) throw new MachineError('the machine has been shut down');
  }

  /** Raises a hard interrupt line on a CPU (like a device would). */
  raiseIrq(cpu: number, irq: number): void {
    this.checkRunning();
    this.checkCpu(cpu);
    if (!Number.isInteger(irq) || irq < 0 || irq >= NR_IRQS)
      throw new MachineError(`no irq ${irq}: lines are 0-${NR_IRQS - 1}`);
    raise_irq(cpu, irq);
  }

  /** Sends a command to a CPU through the function-call IPI and waits for its reply. */
  /** Async so that a bad CPU or a stopped machine rejects the promise rather than throwing. */
  private async request(
    cpu: number,
    command: CpuCommandBody,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<unknown> {
    this.checkRunning();
    this.checkCpu(cpu);
    if (!cpu_online(cpu)) return Promise.reject(new MachineError(`CPU${cpu} is offline`));
    const id = this.nextRequest++;
    if (this.control !== null) return this.controlledRequest(cpu, id, command, timeoutMs);
    return new Promise((resolveReply, rejectReply) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        rejectReply(
          new MachineError(`CPU${cpu} did not answer '${command.op}' within ${timeoutMs / 1000} s`),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve: resolveReply, reject: rejectReply, timer });
      this.ports[cpu].postMessage({ ...command, id });
      raise_irq(cpu, CALL_FUNCTION_IRQ);
    });
  }

  /** A request in controlled mode: the machine advances (in virtual time) until the reply. */
  private async controlledRequest(
    cpu: number,
    id: number,
    command: CpuCommandBody,
    timeoutMs: number,
  ): Promise<unknown> {
    const reply = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    reply.catch(() => {}); // a fault may reject it before it is returned to the caller
    this.ports[cpu].postMessage({ ...command, id });
    raise_irq(cpu, CALL_FUNCTION_IRQ);
    const deadline = this.now() + timeoutMs;
    while (this.pending.has(id) && this.faults.length === 0 && this.running) {
      if (this.now() >= deadline) {
        const p = this.pending.get(id)!;
        this.pending.delete(id);
        p.reject(
          new MachineError(
            `CPU${cpu} did not answer '${command.op}' within ${timeoutMs / 1000} s of machine time`,
          ),
        );
        break;
      }
      await this.control!.advance(deadline - this.now());
    }
    return reply;
  }

  /** Milliseconds since boot on the machine clock: virtual time in controlled mode. */
  now(): number {
    return this.control?.now() ?? machineMs();
  }

  /**
   * Waits `ms` of machine time. In controlled mode the CPUs run meanwhile (and only then), and
   * the wait ends early when a CPU posts a message.
   */
  async sleep(ms: number): Promise<void> {
    if (this.control === null) return new Promise((resolve) => setTimeout(resolve, ms));
    const until = this.now() + ms;
    const seen = this.received;
    do await this.control.advance(until - this.now());
    while (this.now() < until && this.received === seen && this.faults.length === 0 && this.running);
  }

  /** Reads a /proc file: softirqs and interrupts from the counters, others from a module on `cpu`. */
  async readProc(path: string, cpu = 0, timeoutMs = REQUEST_TIMEOUT_MS): Promise<string> {
    const name = path.replace(/^\/proc\//, '');
    if (name === 'softirqs') return render_softirqs();
    if (name === 'interrupts') return render_interrupts(this.irqNames());
    return (await this.request(cpu, { op: 'read-proc', name }, timeoutMs)) as string;
  }

  /** Starts a module's task on a CPU; resolves to its pid. */
  async startTask(cpu: number, name: string, arg: unknown = null, comm = name): Promise<number> {
    return (await this.request(cpu, { op: 'start-task', name, comm, arg, waitForExit: false })) as number;
  }

  /** Runs a module's task on a CPU to its end; resolves to what the task returned. */
  runTask(cpu: number, name: string, arg: unknown = null, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    return this.request(cpu, { op: 'start-task', name, comm: name, arg, waitForExit: true }, timeoutMs);
  }

  /** Runs a module's named call on a CPU in hard-irq context; resolves to what it returned. */
  call(cpu: number, name: string, arg: unknown = null, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    return this.request(cpu, { op: 'call', name, arg }, timeoutMs);
  }

  private async waitState(cpu: number, state: CpuState, timeoutMs: number): Promise<void> {
    const deadline = this.now() + timeoutMs;
    while (Atomics.load(shm.mem, shm.layout.cpu(cpu) + C_STATE) !== state) {
      if (this.now() > deadline)
        throw new MachineError(`CPU${cpu} did not reach state ${CpuState[state]} within ${timeoutMs} ms`);
      if (this.faults.length > 0) throw new MachineError(this.faults[0].message);
      await this.sleep(1);
    }
  }

  /** Takes a CPU offline: its queued tasklets move to a live CPU (takeover_tasklets). */
  async cpuDown(cpu: number, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    this.checkRunning();
    this.checkCpu(cpu);
    if (!cpu_online(cpu)) throw new MachineError(`CPU${cpu} is already offline`);
    if (this.onlineCpus().length === 1) throw new MachineError(`CPU${cpu} is the last online CPU`);
    Atomics.store(shm.mem, shm.layout.cpu(cpu) + C_REQUEST, CpuRequest.Offline);
    kick_cpu(cpu);
    await this.waitState(cpu, CpuState.Dead, timeoutMs);
  }

  async cpuUp(cpu: number, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    this.checkRunning();
    this.checkCpu(cpu);
    if (cpu_online(cpu)) throw new MachineError(`CPU${cpu} is already online`);
    Atomics.store(shm.mem, shm.layout.cpu(cpu) + C_REQUEST, CpuRequest.Online);
    kick_cpu(cpu);
    await this.waitState(cpu, CpuState.Online, timeoutMs);
  }

  onlineCpus(): number[] {
    const cpus: number[] = [];
    for (let cpu = 0; cpu < this.nrCpus; cpu++) if (cpu_online(cpu)) cpus.push(cpu);
    return cpus;
  }

  /** One word of a CPU's block (see layout.ts C_*). */
  cpuWord(cpu: number, offset: number): number {
    return Atomics.load(this.memory.mem, this.memory.layout.cpu(cpu) + offset);
  }

  /** A module's named shared words (see shared_words), viewed from the controller. */
  sharedWords(name: string): Int32Array {
    const allocation = this.sharedWordMap[name];
    if (allocation === undefined) throw new MachineError(`no module allocated shared words named '${name}'`);
    const [offset, length] = allocation;
    return new Int32Array(this.memory.sab, (this.memory.layout.moduleBase + offset) * 4, length);
  }

  /** The comm of a task the CPUs created (null if unknown or its slot was reused). */
  comm(pid: number): string | null {
    return read_comm(this.memory, pid);
  }

  jiffies(): number {
    return jiffies();
  }

  warnings(): number {
    return Atomics.load(this.memory.mem, G_WARNINGS);
  }

  oopsCount(): number {
    return Atomics.load(this.memory.mem, G_OOPSES);
  }

  irqNames(): Map<number, string> {
    return new Map(Object.entries(this.metadata.irqs).map(([irq, name]) => [Number(irq), name]));
  }

  /** Whether a loaded module provides /proc/`name` (softirqs and interrupts always exist). */
  hasProc(name: string): boolean {
    return name === 'softirqs' || name === 'interrupts' || this.metadata.procs.includes(name);
  }

  get running(): boolean {
    return !this.down && !this.shuttingDown;
  }

  /**
   * Stops every CPU (module_exit runs on CPU 0) and waits until no worker is left. A worker that
   * does not stop within `graceMs` is terminated and reported as a fault.
   */
  shutdown(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    this.shutdownDone ??= this.stopCpus(graceMs);
    return this.shutdownDone;
  }

  private async stopCpus(graceMs: number): Promise<void> {
    if (this.down) return;
    this.shuttingDown = true;
    this.watchdog?.stop();
    const mem = this.memory.mem;
    Atomics.store(mem, G_STOP, 1);
    this.control?.stop();
    Atomics.store(mem, G_GO, 1);
    Atomics.notify(mem, G_GO);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) kick_cpu(cpu);
    const exited = new Set<number>();
    const exits = this.workers.map(
      (worker, cpu) =>
        new Promise<void>((r) => {
          const done = (): void => {
            exited.add(cpu);
            r();
          };
          if (worker.threadId === -1) done();
          else worker.once('exit', done);
        }),
    );
    const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), graceMs).unref());
    if ((await Promise.race([Promise.all(exits), grace])) === 'late') {
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        if (exited.has(cpu) || this.faults.some((f) => f.cpu === cpu)) continue;
        this.fault({ cpu, message: `CPU${cpu} did not stop within ${graceMs} ms (stuck?); terminated` });
      }
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
    for (const port of this.ports) port.close();
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new MachineError('the machine was shut down'));
    }
    this.pending.clear();
    this.down = true;
  }
}
