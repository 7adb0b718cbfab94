/** Bench plumbing every machine loads: attach the bench channel, report this worker's heap. */
import { getHeapStatistics } from 'node:v8';
import { defineModule } from 'tasklet-rt';
import { attachChannel } from './channel.ts';

export interface WorkerHeap {
  usedBytes: number;
  totalBytes: number;
}

export default defineModule({
  name: 'bench-control',
  calls: {
    'bench.attach': (sab) => {
      attachChannel(sab as SharedArrayBuffer);
      return null;
    },
    'bench.heap': (): WorkerHeap => {
      const heap = getHeapStatistics();
      return { usedBytes: heap.used_heap_size, totalBytes: heap.total_heap_size };
    },
  },
});
