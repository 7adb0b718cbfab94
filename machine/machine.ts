/**
 * The controller: boots N CPU workers over one SharedArrayBuffer, drives them (interrupts,
 * proc reads, tasks, hotplug), collects their logs and oopses, and shuts them all down. The
 * pieces are their own files: options.ts (what may be asked), boot-memory.ts, workers.ts (the
 * worker threads), requests.ts (commands through the function-call IPI), watchdog.ts, procfs.ts.
 */
import { Controller } from '../control/driver.ts';
import { cpu_online } from '../kernel/cpumask.ts';
import { CALL_FUNCTION_IRQ, raise_irq } from '../kernel/irq.ts';
import type { OopsReport } from '../kernel/oops.ts';
import { jiffies } from '../kernel/tick.ts';
import { kick_cpu } from '../kernel/wake.ts';
import { machineMs, setBootEpoch, skippedMs, wholeUs } from '../shm/clock.ts';
import { read_comm } from '../shm/comm.ts';
import {
  C_REQUEST,
  C_STATE,
  CpuRequest,
  CpuState,
  G_CPU_EVENTS,
  G_GO,
  G_IDLE_SKIPS,
  G_OOPSES,
  G_PARKED_CPUS,
  G_SKIP_IDLE,
  G_STOP,
  G_WARNINGS,
  type MachineMemory,
  NR_IRQS,
} from '../shm/layout.ts';
import { attachMemory } from '../shm/memory.ts';
import type { BootMetadata, CpuCommandBody, CpuMessage, LogLevel } from '../shm/protocol.ts';
import {
  eventsWritten,
  readTrace,
  type TraceRecord,
  traceBufferBytes,
  viewTraceBuffer,
} from '../shm/trace-ring.ts';
import { createMachineMemory } from './boot-memory.ts';
import { acquireDeepInlining, releaseDeepInlining } from './inlining.ts';
import { moduleUrl } from './module-resolve.ts';
import {
  checkInt,
  MachineError,
  type MachineFault,
  type MachineOptions,
  machineSize,
  REQUEST_TIMEOUT_MS,
  SHUTDOWN_GRACE_MS,
} from './options.ts';
import { render_interrupts, render_softirqs } from './procfs.ts';
import { Requests } from './requests.ts';
import { render_timer_list } from './timer-list.ts';
import { type LockupReport, Watchdog } from './watchdog.ts';
import { CpuWorkers } from './workers.ts';

export {
  BadModuleError,
  MachineError,
  type MachineFault,
  type MachineOptions,
  machineDefaults,
} from './options.ts';

let attached: Machine | null = null;

export class Machine {
  readonly dmesg: { cpu: number; level: LogLevel; text: string }[] = [];
  readonly oopses: OopsReport[] = [];
  readonly faults: MachineFault[] = [];
  private readonly workers: CpuWorkers;
  private readonly requests: Requests;
  private sharedWordMap: Record<string, [number, number]> = {};
  /** The loaded modules, as CPU0 reported them at boot. */
  metadata: BootMetadata = {
    modules: [],
    procs: [],
    tasks: [],
    irqs: {},
    drivers: [],
    staticTasklets: [],
    callbacks: [],
  };
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
    this.workers = new CpuWorkers(nrCpus, {
      message: (message) => this.onMessage(message),
      received: () => {
        this.received++;
      },
      fault: (fault) => this.fault(fault),
    });
    this.requests = new Requests({
      deliver: (cpu, command) => {
        this.workers.post(cpu, command);
        raise_irq(cpu, CALL_FUNCTION_IRQ);
      },
      control: this.control,
      now: () => this.now(),
      healthy: () => this.faults.length === 0 && this.running,
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
    const size = machineSize(options);
    const memory = createMachineMemory(size);
    attachMemory(memory);
    // Module code runs only on the CPUs: the controller learns about it from CPU0's boot report.
    const modules = (options.modules ?? []).map(moduleUrl);
    const preload = (options.preload ?? []).map(moduleUrl);

    const machine = new Machine(memory, size.nrCpus, options);
    attached = machine;
    if (options.deepInlining === true) acquireDeepInlining();
    try {
      await machine.startWorkers(modules, preload);
      options.beforeStart?.(machine.metadata);
    } catch (error) {
      await machine.shutdown();
      throw error;
    }
    setBootEpoch(); // time 0 and INITIAL_JIFFIES: the moment every CPU starts
    // Controlled: the CPUs wait for the baton, which the controller holds until it advances.
    machine.control?.beginRun(options.controlled!);
    Atomics.store(memory.mem, G_GO, 1);
    Atomics.notify(memory.mem, G_GO);
    machine.startWatchdog(size.watchdogThresh, size.hungTaskTimeout);
    machine.bootMs = performance.now() - started;
    return machine;
  }

  private async startWorkers(modules: string[], preload: string[]): Promise<void> {
    const { options, traceSab, control } = this;
    const ready = await this.workers.start(
      (cpu, commandPort) => ({
        sab: this.memory.sab,
        layout: this.memory.layout.params,
        cpu,
        modules,
        preload,
        preloadOptions: options.preloadOptions ?? {},
        params: options.params ?? {},
        trace: traceSab === null ? null : { sab: traceSab, capacity: options.trace!.capacity },
        idlePollUs: options.idlePollUs ?? 0,
        control: control === null ? null : { sab: control.block.sab, params: control.block.params },
        commandPort,
      }),
      { resourceLimits: options.resourceLimits },
    );
    this.sharedWordMap = ready.sharedWords;
    this.metadata = ready.metadata;
  }

  private startWatchdog(watchdogThresh: number, hungTaskTimeout: number): void {
    this.watchdog = new Watchdog(
      this.memory,
      this.nrCpus,
      { watchdogThresh, hungTaskTimeout },
      {
        alive: (cpu) => !this.workers.stopped.has(cpu) && !this.faults.some((f) => f.cpu === cpu),
        taskletName: (id) => this.metadata.staticTasklets[id] ?? `tasklet#${id}`,
        onLockup: (report) => this.lockup(report),
      },
    );
    this.watchdog.start();
  }

  /** A soft lockup's CPU will never return to its loop: terminate its worker, then report. */
  private lockup(report: LockupReport): void {
    if (report.kind === 'soft-lockup') this.workers.terminate(report.cpu);
    this.fault({ cpu: report.cpu, message: report.message });
  }

  private fault(fault: MachineFault): void {
    if (this.faults.some((f) => f.cpu === fault.cpu)) return;
    this.faults.push(fault);
    this.requests.rejectAll(fault.message);
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
      case 'reply':
        this.requests.settle(message);
        return;
      case 'stopped':
        this.workers.stopped.add(message.cpu);
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

  /**
   * Sends a command to a CPU through the function-call IPI and waits for its reply. Async so
   * that a bad CPU or a stopped machine rejects the promise rather than throwing.
   */
  private async request(
    cpu: number,
    command: CpuCommandBody,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<unknown> {
    this.checkRunning();
    this.checkCpu(cpu);
    if (!cpu_online(cpu)) return Promise.reject(new MachineError(`CPU${cpu} is offline`));
    return this.requests.send(cpu, command, timeoutMs);
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
    // Whole microseconds (shm/clock.ts): the same sleep takes the same steps at any absolute time.
    const until = wholeUs(this.now() + ms);
    const seen = this.received;
    do await this.control.advance((until - wholeUs(this.now())) / 1000);
    while (wholeUs(this.now()) < until && this.received === seen && this.faults.length === 0 && this.running);
  }

  /**
   * Waits at most `ms` of machine time, less when a CPU goes idle or changes state first (what a
   * drain or a hotplug step waits for): free-running, a poll of the machine then follows each
   * change at once instead of on the next millisecond timer. Controlled, it is `sleep`.
   */
  async awaitCpuEvent(ms: number): Promise<void> {
    if (this.control !== null) return this.sleep(ms);
    const mem = this.memory.mem;
    const waited = Atomics.waitAsync(mem, G_CPU_EVENTS, Atomics.load(mem, G_CPU_EVENTS), ms);
    if (waited.async) await waited.value;
  }

  /**
   * Free-running: while on, time in which every CPU only waits for the clock (asleep in idle, or
   * in a udelay; parked offline CPUs aside) is skipped, the machine clock jumping to the next
   * tick or the udelay's end (kernel/idle-skip.ts). Fuzz programs use it; time-outs the
   * controller counts in machine time then pass faster in real time while the machine idles.
   * No effect in controlled mode, whose virtual clock skips idle time anyway.
   */
  skipIdleTime(on: boolean): void {
    Atomics.store(this.memory.mem, G_SKIP_IDLE, on ? 1 : 0);
  }

  /** Idle skips so far, free-running: how many, and the machine time they skipped. */
  idleSkips(): { count: number; ms: number } {
    return { count: Atomics.load(this.memory.mem, G_IDLE_SKIPS) >>> 0, ms: skippedMs() };
  }

  /** Reads a /proc file: softirqs, interrupts and timer_list from shared memory, others from a module on `cpu`. */
  async readProc(path: string, cpu = 0, timeoutMs = REQUEST_TIMEOUT_MS): Promise<string> {
    const name = path.replace(/^\/proc\//, '');
    if (name === 'softirqs') return render_softirqs();
    if (name === 'interrupts') return render_interrupts(this.irqNames());
    if (name === 'timer_list') return render_timer_list(this.metadata.callbacks);
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
    const deadline = wholeUs(this.now() + timeoutMs);
    while (this.cpuWord(cpu, C_STATE) !== state) {
      if (wholeUs(this.now()) > deadline)
        throw new MachineError(`CPU${cpu} did not reach state ${CpuState[state]} within ${timeoutMs} ms`);
      if (this.faults.length > 0) throw new MachineError(this.faults[0].message);
      await this.awaitCpuEvent(1);
    }
  }

  /** Takes a CPU offline: its queued tasklets move to a live CPU (takeover_tasklets). */
  async cpuDown(cpu: number, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    this.checkRunning();
    this.checkCpu(cpu);
    if (!cpu_online(cpu)) throw new MachineError(`CPU${cpu} is already offline`);
    if (this.onlineCpus().length === 1) throw new MachineError(`CPU${cpu} is the last online CPU`);
    Atomics.store(this.memory.mem, this.memory.layout.cpu(cpu) + C_REQUEST, CpuRequest.Offline);
    kick_cpu(cpu);
    await this.waitState(cpu, CpuState.Dead, timeoutMs);
  }

  async cpuUp(cpu: number, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    this.checkRunning();
    this.checkCpu(cpu);
    if (cpu_online(cpu)) throw new MachineError(`CPU${cpu} is already online`);
    // Out of the park count first (kernel/idle-skip.ts park_cpu): it holds the clock from now on.
    Atomics.sub(this.memory.mem, G_PARKED_CPUS, 1);
    Atomics.store(this.memory.mem, this.memory.layout.cpu(cpu) + C_REQUEST, CpuRequest.Online);
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

  /** Whether a loaded module provides /proc/`name` (softirqs, interrupts and timer_list always exist). */
  hasProc(name: string): boolean {
    return (
      name === 'softirqs' ||
      name === 'interrupts' ||
      name === 'timer_list' ||
      this.metadata.procs.includes(name)
    );
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
    if (this.options.deepInlining === true) releaseDeepInlining();
    this.shuttingDown = true;
    this.workers.beginStop();
    this.watchdog?.stop();
    const mem = this.memory.mem;
    Atomics.store(mem, G_STOP, 1);
    this.control?.stop();
    Atomics.store(mem, G_GO, 1);
    Atomics.notify(mem, G_GO);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) kick_cpu(cpu);
    const late = await this.workers.waitExit(graceMs);
    for (const cpu of late) {
      if (this.faults.some((f) => f.cpu === cpu)) continue;
      this.fault({ cpu, message: `CPU${cpu} did not stop within ${graceMs} ms (stuck?); terminated` });
    }
    this.requests.rejectAll('the machine was shut down');
    this.down = true;
  }
}
