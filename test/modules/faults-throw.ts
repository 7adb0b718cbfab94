/** Faults test module: a tasklet callback that throws on each of its three runs (an oops each). */
import {
  DECLARE_TASKLET,
  defineModule,
  pr_info,
  type TaskletStruct,
  tasklet_schedule,
} from '../../kernel/index.ts';

let runs = 0;

function faults_throw_fn(t: TaskletStruct): void {
  runs++;
  if (runs < 3) tasklet_schedule(t);
  pr_info(`faults: throwing from run ${runs}`);
  throw new Error(`faults_throw_fn: run ${runs} failed`);
}

const faults_throw = DECLARE_TASKLET('faults_throw', faults_throw_fn);

export default defineModule({
  name: 'faults-throw',
  init() {
    tasklet_schedule(faults_throw);
  },
});
