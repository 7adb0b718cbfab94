import { defineConfig } from 'vitest/config';

/** The end-to-end suites (the packed package, the mutant sweep, the CLI's bad input, faults and output channel, `run`, the hunts) run apart: `npm run test:e2e`. */
export const E2E = ['test/**/*.e2e.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...E2E],
    // Each test file boots real worker-thread machines; two files at once fit a 2-core host.
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
