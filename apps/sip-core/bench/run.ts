/**
 * sip-core benchmarks, each against our engine + sip-core and against Kamailio 5.6 as the reference:
 *
 *   pnpm --filter @switchboard/sip-core bench [registrar] [calls] [challenges] [scale]   (default: all, one after the other)
 *
 * BENCH_TARGETS=sip-core,drachtio-server,kamailio picks the sides (the registrar bench also runs sip-core
 * on drachtio-server from DRACHTIO_SERVER_BIN, skipped with a note without it); BENCH_LAYOUT=split runs the engine and sip-core
 * as two processes (registrar only); BENCH_PROFILE=<dir> writes CPU profiles of sip-core;
 * BENCH_NODE_ARGS adds Node/V8 flags to the engine and sip-core processes (`--trace-gc`), whose output
 * BENCH_CHILD_OUTPUT=1 passes on. Each
 * bench's own variables are in its file and in docs/performance.md. Needs PostgreSQL, sipp,
 * rtpengine and kamailio (installed from Debian when missing); loopback only. Results go to
 * bench/results/<name>.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCalls } from './calls.ts';
import { benchChallenges } from './challenges.ts';
import { benchRegistrar } from './registrar.ts';
import { benchScale } from './scale.ts';

const BENCHES: Record<string, (dir: string, targets: string[]) => Promise<void>> = {
  registrar: benchRegistrar,
  calls: benchCalls,
  challenges: benchChallenges,
  scale: benchScale,
};
/**
 * Which systems to measure (comma-separated): `sip-core` (on our engine), `drachtio-server` (sip-core on it,
 * registrar only, needs DRACHTIO_SERVER_BIN) and `kamailio`; default all three.
 */
const TARGETS = (process.env.BENCH_TARGETS ?? 'sip-core,drachtio-server,kamailio').split(',');

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((arg) => arg !== '--');
  const selected = names.length > 0 ? names : Object.keys(BENCHES);
  for (const name of selected) if (!BENCHES[name]) throw new Error(`unknown benchmark ${name}`);
  for (const name of selected) {
    const dir = mkdtempSync(join(tmpdir(), `${name}-bench-`));
    try {
      await BENCHES[name]!(dir, TARGETS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
