// A complete tasklet-rt module: an interrupt handler on every CPU defers work to a tasklet.
import {
  DECLARE_TASKLET,
  defineModule,
  FIRST_DEVICE_IRQ,
  in_serving_softirq,
  jiffies,
  nr_cpu_ids,
  pr_info,
  raise_irq,
  smp_processor_id,
  type TaskletStruct,
  tasklet_schedule,
} from 'tasklet-rt';

const HELLO_IRQ = FIRST_DEVICE_IRQ;
let runs = 0; // per CPU: each CPU has its own copy of module variables

function hello_tasklet_fn(t: TaskletStruct): void {
  runs++;
  if (runs % 1000 === 1) {
    pr_info(
      `${t.name}: run ${runs} on CPU${smp_processor_id()} at jiffies ${jiffies()}, softirq=${in_serving_softirq()}`,
    );
  }
}

const hello_tasklet = DECLARE_TASKLET('hello_tasklet', hello_tasklet_fn);

function hello_interrupt(): void {
  tasklet_schedule(hello_tasklet); // the hard-irq half: defer the work
  raise_irq((smp_processor_id() + 1) % nr_cpu_ids(), HELLO_IRQ); // and poke the next CPU
}

export default defineModule({
  name: 'hello',
  irqs: { [HELLO_IRQ]: { name: 'hello', handler: hello_interrupt } },
  init() {
    pr_info('hello: loaded, raising the first interrupt');
    raise_irq(0, HELLO_IRQ);
  },
});
