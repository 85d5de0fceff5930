import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// Two files at a time: most of this suite waits on real calls (rtpengine, sipp, softphones) rather than
// computing, so a second worker halves the wall-clock time on a 2-core machine without starving either.
// Every file allocates its own ports, databases and Redis key prefix, so files never share state.
export default mergeConfig(shared, defineConfig({ test: { include: ['test/**/*.test.ts'], maxWorkers: 2 } }));
