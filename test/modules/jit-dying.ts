/**
 * Test module: /proc/jitasklet_dying reads /proc/jitasklet while asking for this CPU to go
 * offline. The CPU honours the request at its loop's next turn, right after the reader has
 * scheduled the tasklet and gone to sleep: the tasklet is queued when the CPU dies, and runs
 * on the heir. (A module writing the hotplug request word is a test's shortcut, not an API.)
 */
import { defineModule, smp_processor_id } from 'tasklet-rt';
import { jit_tasklet } from '../../modules/jit.ts';
import { C_REQUEST, CpuRequest } from '../../shm/layout.ts';
import { shm } from '../../shm/memory.ts';

const read = jit_tasklet(false);

export default defineModule({
  name: 'jit-dying',
  procs: {
    *jitasklet_dying(m) {
      Atomics.store(shm.mem, shm.layout.cpu(smp_processor_id()) + C_REQUEST, CpuRequest.Offline);
      yield* read(m);
    },
  },
});
