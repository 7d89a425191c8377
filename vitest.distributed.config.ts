import { defineConfig } from 'vitest/config';

// The suites that need the real engines `ops/stack up` starts: `npm run test:distributed`.
export default defineConfig({
  test: {
    include: ['**/*.distributed.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
