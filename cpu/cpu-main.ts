/**
 * One emulated CPU. Attaches to the machine's memory, loads the modules, brings the CPU up and
 * runs its loop until the controller stops the machine.
 */

import { workerData } from 'node:worker_threads';
import { send_to_controller } from '../kernel/controller-port.ts';
import { registered_irqs, set_timer_check_interval } from '../kernel/irq.ts';
import { module_metadata, set_module_params } from '../kernel/module.ts';
import { setOopsSink } from '../kernel/oops.ts';
import { this_cpu } from '../kernel/percpu.ts';
import { setCurrentTaskSource, setPrintkSink } from '../kernel/printk.ts';
import { current, reset_for_controlled_run } from '../kernel/sched.ts';
import { shared_word_allocations } from '../kernel/shared.ts';
import { write_static_shared } from '../kernel/shared-data.ts';
import { write_static_spinlocks } from '../kernel/spinlock.ts';
import { callback_names, static_tasklet_names, write_static_tasklets } from '../kernel/tasklet-table.ts';
import { init_tick } from '../kernel/tick.ts';
import { write_static_timers } from '../kernel/timer.ts';
import { start_tracing } from '../kernel/tracer.ts';
import { write_static_works } from '../kernel/workqueue.ts';
import {
  attach_machine_memory,
  futex_wait,
  futex_wake,
  layout,
  raw_add,
  raw_load,
  raw_store,
} from '../shm/door.ts';
import { G_BOOTED, G_GO, G_STATIC_READY, G_STOP } from '../shm/layout.ts';
import type { CpuWorkerData } from '../shm/protocol.ts';
import { setCommandPort } from './commands.ts';
import { boot_cpu, cpu_loop, run_module_exits, start_module_inits } from './cpu-loop.ts';
import { prepare_module_loading } from './module-hooks.ts';
import { load_module } from './module-load.ts';

const data = workerData as CpuWorkerData;
const send = send_to_controller;

attach_machine_memory(data.sab, data.layout);
// Controlled mode's CPU side loads only on a controlled machine: a tenth of a CPU's boot.
const control = data.control === null ? null : await import('../control/cpu.ts');
if (control !== null) {
  control.attach_control(data.control!.sab, data.control!.params);
  control.on_control_epoch(reset_for_controlled_run);
}
this_cpu.id = data.cpu;
this_cpu.base = layout().cpu(data.cpu);
setPrintkSink((level, text) => send({ type: 'printk', cpu: data.cpu, level, text }));
setCurrentTaskSource(() => current());
setOopsSink((report) => send({ type: 'oops', ...report }));
setCommandPort(data.commandPort);

(globalThis as { __taskletRtPreloadOptions?: unknown }).__taskletRtPreloadOptions = data.preloadOptions;
set_module_params(data.params ?? {});
await prepare_module_loading([...data.preload, ...data.modules]);
for (const url of data.preload) await import(url);
for (const url of data.modules) await load_module(url);

// Callback ids are this thread's; every CPU loaded the same code, so CPU0's are everyone's.
if (data.cpu === 0) {
  write_static_tasklets();
  write_static_spinlocks();
  write_static_shared();
  write_static_timers();
  write_static_works();
  raw_store(G_STATIC_READY, 1);
  futex_wake(G_STATIC_READY, Number.POSITIVE_INFINITY);
}
while (raw_load(G_STATIC_READY) === 0 && raw_load(G_STOP) === 0) futex_wait(G_STATIC_READY, 0, 50);
if (data.trace !== null) {
  start_tracing(data.trace.sab, { nrCpus: data.layout.nrCpus, capacity: data.trace.capacity });
}
boot_cpu(data.cpu, data.idlePollUs);
raw_add(G_BOOTED, 1);
send({
  type: 'ready',
  cpu: data.cpu,
  sharedWords: shared_word_allocations(),
  metadata: {
    ...module_metadata(),
    irqs: registered_irqs(), // what request_irq registered (a failed one leaves its line unnamed)
    staticTasklets: static_tasklet_names(),
    callbacks: callback_names(),
  },
});
while (raw_load(G_GO) === 0) futex_wait(G_GO, 0, 50);

if (control !== null) {
  // Controlled mode: the timer is checked at every point, so no local countdown decides when.
  set_timer_check_interval(1);
  control.start_control(data.cpu, this_cpu.base);
}
init_tick();
if (data.cpu === 0) start_module_inits();
cpu_loop();
if (data.cpu === 0) run_module_exits();
send({ type: 'stopped', cpu: data.cpu });
