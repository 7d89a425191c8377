import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // *.distributed.test.ts need the real engines: npm run test:distributed (vitest.distributed.config.ts).
    exclude: ['node_modules/**', 'data/**', '**/*.distributed.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
