/**
 * One shared timer, moved between bases by mod_timer while an interrupt of the moving CPU's
 * own lands at a chosen shared access; the handler mod_timers the same timer. The kernel keeps
 * interrupts off from the old base's lock to the new one's (TIMER_MIGRATING is set in between),
 * so the handler can never find the timer between bases on its own CPU and spin there forever.
 */
import {
  DEFINE_TIMER,
  defineModule,
  jiffies,
  mod_timer,
  raise_irq,
  shared_words,
  smp_processor_id,
  type TaskBody,
} from 'tasklet-rt';
import { setAccessHook } from '../../shm/door.ts';

export const TIMER_IRQ_LINE = 6;
const words = shared_words(2, 'timer-irq');
const W_HANDLED = 0;

function idle_fn(): void {}
const x = DEFINE_TIMER('timer_irq_x', idle_fn);

function timer_irq(): number {
  mod_timer(x, jiffies() + 2000);
  Atomics.add(words, W_HANDLED, 1);
  return 1;
}

/** mod_timer from process context with this CPU's interrupt raised at shared access `at`. */
function* migrateWithIrqAt(arg: unknown): TaskBody {
  const at = (arg as { at: number }).at;
  const me = smp_processor_id();
  let accesses = 0;
  setAccessHook(() => {
    if (++accesses === at) raise_irq(me, TIMER_IRQ_LINE);
  });
  try {
    mod_timer(x, jiffies() + 3000);
  } finally {
    setAccessHook(null);
  }
  return { accesses, handled: Atomics.load(words, W_HANDLED) };
}

export default defineModule({
  name: 'timer-irq',
  callbacks: [idle_fn],
  irqs: { [TIMER_IRQ_LINE]: { name: 'timer-irq', handler: timer_irq } },
  calls: {
    /** Puts the timer on this CPU's base. */
    arm: () => mod_timer(x, jiffies() + 2000),
  },
  tasks: { migrateWithIrqAt },
});
