// Worker bootstrap: Node 20 cannot start a .ts worker through execArgv, so register tsx here
// and then load the TypeScript CPU entry.
import { register } from 'tsx/esm/api';

register();
await import('./cpu-main.ts');
