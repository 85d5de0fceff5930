import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';

// `pnpm test` runs two packages' suites at once: each package draws the ports it gives sipp, baresip and
// linphonec (testkit's allocatePort) from its own range, so two suites never take the same port between
// one's check and its program's bind. Outside the ephemeral range (32768-60999) and the fixed ranges
// tests name themselves (19000-19999, 22400-22499, 24500-24999, 40000-40999, 46500-47999).
const PORT_RANGES: Record<string, string> = {
  'sip-core': '16000-18999',
  engine: '20000-20499',
  switchboard: '20500-20999',
  web: '21000-21499',
  testkit: '21500-21799',
  storage: '22000-22199',
};

// Every package's vitest config extends this one, so that `.ci/run` can add up one JSON report per package.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { TEST_PORT_RANGE: PORT_RANGES[basename(process.cwd())] ?? '21800-21999' },
  },
});
