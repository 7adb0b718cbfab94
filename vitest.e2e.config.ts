import { defineConfig } from 'vitest/config';
import base, { E2E } from './vitest.config.ts';

/** `npm run test:e2e`: only the end-to-end suites, with the main suite's settings. */
export default defineConfig({ test: { ...base.test, include: E2E, exclude: ['**/node_modules/**'] } });
