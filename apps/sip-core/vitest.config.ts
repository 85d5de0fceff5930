import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// One file at a time: the real-media files (softphones, Kamailio, rtpengine) wait on calls with bounded
// timeouts, and two of them sharing a 2-core machine with another package's suite (`pnpm test` runs two
// packages at once) missed those bounds. Every file allocates its own ports, databases and Redis key
// prefix, so running them side by side is safe where there are cores to spare (`--maxWorkers`).
// Not isolated: the files share one process and import the stack once; a fresh process per file spent
// about 1.8 s each importing it again (about 170 s of the suite). Tests therefore leave no global state
// behind (timers, listeners, environment), as the stack's own code must not either.
export default mergeConfig(
  shared,
  defineConfig({ test: { include: ['test/**/*.test.ts'], maxWorkers: 1, isolate: false } }),
);
