/**
 * Test driver for stress of a module, clean: an irq handler schedules a tasklet; process-context
 * tasks disable and enable it around a schedule (the run waits for the enable), or kill it;
 * remove kills it, probe does nothing. Every tasklet guarantee the harness judges holds, so a
 * finding here is the harness's (or, with a mutant, the mechanism's) fault. No suite runs it (a
 * boot each is too dear); it checks the module oracles against the mechanism's mutants, e.g.
 * stressModule({ file: this, inject: 'no-count-check', ... }) must report G8 (harness/module).
 */
import {
  DECLARE_TASKLET,
  defineModule,
  FIRST_DEVICE_IRQ,
  shared_words,
  type TaskBody,
  tasklet_disable,
  tasklet_enable,
  tasklet_kill,
  tasklet_schedule,
  udelay,
} from 'tasklet-rt';

const LINE = FIRST_DEVICE_IRQ;
const runs = shared_words(1, 'toggler-runs');

const work = DECLARE_TASKLET('toggler_tasklet', function toggler_work(): void {
  Atomics.add(runs, 0, 1);
  udelay(5);
});

export default defineModule({
  name: 'toggler',
  irqs: { [LINE]: { name: 'toggler', handler: () => tasklet_schedule(work) } },
  tasks: {
    *toggle(): TaskBody<void> {
      tasklet_disable(work);
      tasklet_schedule(work);
      udelay(20);
      tasklet_enable(work);
    },
    *kill(): TaskBody<void> {
      tasklet_kill(work);
      yield;
    },
  },
  probe() {},
  remove() {
    tasklet_kill(work);
  },
  stimulus: { irqs: { [LINE]: { rate: 20_000 } }, tasks: { toggle: 3, kill: 1 }, lifecycle: true },
});
