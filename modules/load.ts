/**
 * A busy background task, like the compiler that LDD3's sample output shows (`cc1`): it keeps
 * its CPU busy, taking interrupts, and gives the CPU away only when the tick says its slice is over.
 */
import { defineModule, need_resched, type TaskBody, udelay } from 'tasklet-rt';

function* cc1(): TaskBody {
  for (;;) {
    while (!need_resched()) udelay(20);
    yield;
  }
}

export default defineModule({ name: 'load', tasks: { cc1 } });
