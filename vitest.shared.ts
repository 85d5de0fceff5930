import { defineConfig } from 'vitest/config';

// Every package's vitest config extends this one, so that `.ci/run` can add up one JSON report per package.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
