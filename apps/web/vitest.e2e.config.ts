import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['e2e/**/*.e2e.test.ts'],
      environment: 'node',
      testTimeout: 90_000,
      hookTimeout: 120_000,
      fileParallelism: false,
      reporters: ['default', ['json', { outputFile: '.test-results/vitest-e2e.json' }]],
    },
  }),
);
