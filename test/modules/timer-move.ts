/**
 * One timer far ahead on CPU1's base, watched from CPU0 at each of CPU0's shared accesses while
 * CPU0 moves it to its own base at CPU1's hot-unplug (timers_dead_cpu): a lockless timer_pending()
 * reader must find it pending at every one of them.
 */
import { DEFINE_TIMER, defineModule, jiffies, mod_timer, shared_words } from 'tasklet-rt';
import { raw_load, setAccessHook } from '../../shm/door.ts';
import { TM_LIST } from '../../shm/layout.ts';

const words = shared_words(2, 'timer-move');
const W_ACCESSES = 0;
const W_NOT_PENDING = 1;

function idle_fn(): void {}
const x = DEFINE_TIMER('timer_move_x', idle_fn);

export default defineModule({
  name: 'timer-move',
  callbacks: [idle_fn],
  calls: {
    arm: () => mod_timer(x, jiffies() + 100_000),
    /** From now on every shared access of this CPU looks at the timer's list word. */
    watch: () => {
      words.fill(0);
      setAccessHook(() => {
        Atomics.add(words, W_ACCESSES, 1);
        if (raw_load(x.addr + TM_LIST) === 0) Atomics.add(words, W_NOT_PENDING, 1);
      });
      return true;
    },
    unwatch: () => {
      setAccessHook(null);
      return {
        accesses: Atomics.load(words, W_ACCESSES),
        notPending: Atomics.load(words, W_NOT_PENDING),
        cpu: x.cpu,
      };
    },
  },
});
