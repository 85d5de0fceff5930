import react from '@vitejs/plugin-react';
import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Two projects in one run, so the package leaves one JSON report: component tests in jsdom, and the
// browser tests (chromium driving the built app served by the real API) in node.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      projects: [
        {
          extends: true,
          plugins: [react()],
          test: {
            name: 'unit',
            include: ['test/**/*.test.{ts,tsx}'],
            environment: 'jsdom',
            setupFiles: ['test/setup.ts'],
          },
        },
        {
          extends: true,
          test: {
            name: 'e2e',
            include: ['e2e/**/*.e2e.test.ts'],
            environment: 'node',
            testTimeout: 90_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  }),
);
