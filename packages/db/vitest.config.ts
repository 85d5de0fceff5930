import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Database tests start PGlite (seconds per instance) and the schema engine on a shared machine:
// bounds are generous so that a slow machine is not mistaken for a failure.
export default mergeConfig(
  shared,
  defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 180_000 } }),
);
