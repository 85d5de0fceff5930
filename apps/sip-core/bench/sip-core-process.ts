/**
 * sip-core in its own process for the benchmarks' `split` layout (engine and sip-core on separate
 * cores, as in production), or with the engine in the same process (BENCH_ENGINE_SIP_PORT, as the
 * all-in-one launcher runs them). Configured by the parent through BENCH_DATABASE_URL and
 * BENCH_SIP_CORE_OPTIONS (the sip-core options as JSON, engine port and secret included); prints
 * `ready` once connected to the engine; SIGTERM closes it cleanly.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { openDatabase } from '@switchboard/db';
import { startEngine } from '@switchboard/engine';
import { pino } from 'pino';
import type { SipCoreOptions } from '../src/config.ts';
import { startSipCore } from '../src/start.ts';
import { compactingCollection } from '../src/startup-garbage.ts';
import { localHandlersWanted } from './support.ts';

const log = pino({ level: process.env.BENCH_LOG ?? 'warn' });
const options = JSON.parse(process.env.BENCH_SIP_CORE_OPTIONS ?? '{}') as SipCoreOptions;
const db = await openDatabase({
  databaseUrl: process.env.BENCH_DATABASE_URL,
  dataDir: tmpdir(),
  log,
});
// BENCH_ENGINE_SIP_PORT: the engine runs in this process too, linked without a socket (the all-in-one
// launcher's layout); its admin listener takes an ephemeral port.
const enginePort = Number(process.env.BENCH_ENGINE_SIP_PORT ?? 0);
const engine = enginePort
  ? await startEngine(
      {
        sipListen: [{ transport: 'udp', host: '127.0.0.1', port: enginePort }],
        engineAdmin: { host: '127.0.0.1', port: 0 },
        engineSecret: options.drachtio.secret,
      },
      { logger: log },
    )
  : undefined;
const sipCore = await startSipCore(options, {
  prisma: db.prisma,
  db,
  logger: log,
  ...(engine ? { engineLink: () => engine.linkInProcess() } : {}),
  ...(engine && localHandlersWanted() ? { localEngine: engine } : {}),
});
process.stdout.write('ready\n');
// The scale bench asks what the heap holds (resident memory it reads from /proc itself), and where
// the resident memory beyond the heap is: resident kB per mapping (file, [heap], or anonymous), read
// after a compacting collection. BENCH_HEAP_SNAPSHOT=<dir> also writes a heap snapshot there then
// (for a heap analysis; it stops the process for seconds at 100,000 devices).
process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  // A compacting collection (as at the end of start-up): what the process would keep if its heap
  // were compacted now, and how long that stops it.
  const gcMs = Math.round(compactingCollection());
  const after = process.memoryUsage();
  // What V8 has in RAM (committed pages it touched), against the heap's size and the mappings.
  const v8PhysicalMb = Math.round(
    getHeapSpaceStatistics().reduce((sum, space) => sum + space.physical_space_size, 0) / 2 ** 20,
  );
  process.stderr.write(
    `${JSON.stringify({ before, after, gcMs, v8PhysicalMb, residentKb: residentByMapping() })}\n`,
  );
  const snapshotDir = process.env.BENCH_HEAP_SNAPSHOT;
  if (snapshotDir)
    process.stderr.write(
      `heap snapshot ${writeHeapSnapshot(join(snapshotDir, `sip-core-${process.pid}.heapsnapshot`))}\n`,
    );
});

/** Resident kB of this process by what is mapped (Linux `/proc/self/smaps`), largest first. */
function residentByMapping(): Record<string, number> {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return {};
  }
  const totals = new Map<string, number>();
  let current = '[anonymous]';
  for (const line of text.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) current = header[1] || '[anonymous]';
    else if (line.startsWith('Rss:'))
      totals.set(current, (totals.get(current) ?? 0) + Number.parseInt(line.slice(4), 10));
  }
  return Object.fromEntries([...totals].filter(([, kb]) => kb >= 1024).sort((a, b) => b[1] - a[1]));
}
process.once('SIGTERM', () => {
  void (async () => {
    await sipCore.close();
    await engine?.close();
    await db.close();
    process.exit(0);
  })();
});

// BENCH_IDLE_PROFILE=<dir>: a sampling allocation profile of the process while the scale bench lets it
// sit after its registrations (BENCH_IDLE_PROFILE_AT s after ready, 30 s long), collected objects
// included: what an idle registrar still allocates, and so what keeps V8's memory reducer waiting.
const idleProfileDir = process.env.BENCH_IDLE_PROFILE;
if (idleProfileDir) {
  const startAfterS = Number(process.env.BENCH_IDLE_PROFILE_AT ?? 275);
  setTimeout(() => void profileAllocations(idleProfileDir, 30), startAfterS * 1000).unref();
}

async function profileAllocations(dir: string, seconds: number): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const file = join(dir, `sip-core-idle-${process.pid}.heapprofile`);
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  process.stderr.write(`allocation profile ${file}\n`);
}
