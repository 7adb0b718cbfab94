// Bootstrap of a stress job's pool thread from the sources: register tsx, then load the job.
import { register } from 'tsx/esm/api';

register();
const job = await import('./job.ts');
export default job.default;
