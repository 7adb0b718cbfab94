/**
 * tasklet-rt's public API: the kernel calls modules use (with kernel names), the module
 * definition. The controller (Machine) is `tasklet-rt/machine` (machine/index.ts).
 */
export { cpu_relax } from '../shm/door.ts';
export { MAX_CPUS, NR_IRQS } from '../shm/layout.ts';
export { cpu_online, nr_cpu_ids, num_online_cpus } from './cpumask.ts';
export { mdelay, udelay } from './delay.ts';
export type { IrqHandler } from './irq.ts';
export {
  CALL_FUNCTION_IRQ,
  FIRST_DEVICE_IRQ,
  free_irq,
  irqreturn,
  raise_irq,
  request_irq,
  send_IPI,
  TIMER_IRQ,
} from './irq.ts';
export {
  irqs_disabled,
  local_irq_disable,
  local_irq_enable,
  local_irq_restore,
  local_irq_save,
} from './irqflags.ts';
export { defineModule, type ModuleDefinition, module_param, type ProcRead, SeqFile } from './module.ts';
export {
  in_atomic,
  in_hardirq,
  in_interrupt,
  in_irq,
  in_nmi,
  in_serving_softirq,
  in_softirq,
  in_task,
  preempt_count,
  preempt_disable,
  preempt_enable,
} from './preempt.ts';
export { pr_err, pr_info, pr_notice, pr_warn, printk, WARN } from './printk.ts';
export { report } from './report.ts';
export {
  current,
  init_waitqueue_head,
  kthread_run,
  need_resched,
  set_current_state,
  Task,
  type TaskBody,
  type TaskFn,
  TaskState,
  WaitQueueHead,
  wait_event,
  wait_event_interruptible,
  wake_up,
  wake_up_interruptible,
} from './sched.ts';
export { shared_words } from './shared.ts';
export { SlotTableFullError } from './slot-table.ts';
export { smp_processor_id } from './smp.ts';
export {
  __raise_softirq_irqoff,
  BLOCK_SOFTIRQ,
  HI_SOFTIRQ,
  HRTIMER_SOFTIRQ,
  IRQ_POLL_SOFTIRQ,
  kstat_softirqs_cpu,
  local_bh_disable,
  local_bh_enable,
  local_softirq_pending,
  NET_RX_SOFTIRQ,
  NET_TX_SOFTIRQ,
  open_softirq,
  RCU_SOFTIRQ,
  raise_softirq,
  raise_softirq_irqoff,
  SCHED_SOFTIRQ,
  softirq_to_name,
  TASKLET_SOFTIRQ,
  TIMER_SOFTIRQ,
} from './softirq.ts';
export { sprintf } from './sprintf.ts';
export {
  TASKLET_STATE_RUN,
  TASKLET_STATE_SCHED,
  tasklet_disable,
  tasklet_disable_in_atomic,
  tasklet_disable_nosync,
  tasklet_enable,
  tasklet_free,
  tasklet_hi_schedule,
  tasklet_init,
  tasklet_kill,
  tasklet_schedule,
  tasklet_setup,
  tasklet_trylock,
  tasklet_unlock,
  tasklet_unlock_spin_wait,
  tasklet_unlock_wait,
} from './tasklet.ts';
export {
  DECLARE_TASKLET,
  DECLARE_TASKLET_DISABLED,
  DECLARE_TASKLET_DISABLED_OLD,
  DECLARE_TASKLET_OLD,
  from_tasklet,
  type TaskletCallback,
  type TaskletFunc,
  TaskletStruct,
  TaskletTableFullError,
  tasklet_alloc,
  tasklet_from_id,
} from './tasklet-table.ts';
export {
  HZ,
  jiffies,
  jiffies_to_msecs,
  msecs_to_jiffies,
  time_after,
  time_after_eq,
  time_before,
  time_before_eq,
  time_in_range,
} from './tick.ts';
export {
  current_kernel_time,
  do_gettimeofday,
  get_jiffies_64,
  ktime_get_coarse_real_ts64,
  ktime_get_real_ts64,
  MAX_SCHEDULE_TIMEOUT,
  msleep,
  schedule,
  schedule_timeout,
  schedule_timeout_interruptible,
  schedule_timeout_uninterruptible,
  type Timespec64,
  type Timeval,
  wait_event_interruptible_timeout,
  wait_event_timeout,
} from './timeout.ts';
export {
  add_timer,
  add_timer_on,
  DEFINE_TIMER,
  del_timer,
  del_timer_sync,
  from_timer,
  mod_timer,
  mod_timer_pending,
  TIMER_DEFERRABLE,
  TIMER_IRQSAFE,
  TIMER_PINNED,
  type TimerCallback,
  TimerList,
  timer_alloc,
  timer_delete,
  timer_delete_sync,
  timer_free,
  timer_from_id,
  timer_pending,
  timer_setup,
  try_to_del_timer_sync,
} from './timer.ts';
export {
  alloc_workqueue,
  cancel_work,
  cancel_work_sync,
  DECLARE_WORK,
  destroy_workqueue,
  disable_work,
  disable_work_sync,
  enable_work,
  flush_work,
  from_work,
  INIT_WORK,
  queue_work,
  queue_work_on,
  schedule_work,
  system_bh_highpri_wq,
  system_bh_wq,
  type WorkFunc,
  WorkqueueStruct,
  WorkStruct,
  WQ_BH,
  WQ_HIGHPRI,
  work_alloc,
  work_free,
  work_from_id,
  work_pending,
  work_running,
} from './workqueue.ts';
