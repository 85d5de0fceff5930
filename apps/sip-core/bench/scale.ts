/**
 * Scale benchmark: how sip-core's memory and start-up grow with the number of subscribers, and what
 * engine + sip-core hold for registered devices.
 *
 * For each size in BENCH_SCALE_SIZES (default 10000,100000,1000000) a fresh database gets that many
 * subscribers (HA1 values as the registrar stores them), one number each and one live binding each,
 * written in SQL. Then:
 * - bench/scale-indexes.ts loads the directory, the numbering index and the location service in a
 *   process of its own and reports the heap each one holds and its load time, plus a full directory
 *   reload (what a domain change or a change-feed reconnect costs);
 * - engine + sip-core start in two processes (the split layout) on that database: the time until
 *   sip-core is ready and both processes' resident memory, 10 s after and again 60 s after (an idle V8
 *   returns the pages the loads grew only after a while).
 * BENCH_SCALE_INDEXES_ONLY=1 stops there (the index loads alone, for sizes too large to start quickly).
 * Then BENCH_SCALE_LIVE (default 100000) devices register for real with sipp (REGISTER, 401,
 * REGISTER with credentials, 200) at BENCH_SCALE_RATE per second, and the resident memory of engine
 * + sip-core is read again (10 and 60 s after the last registration): bytes per registered device, for the 400 MB per 100,000 target.
 * Results go to bench/results/scale.json; loopback and a throw-away database only.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Database } from '@switchboard/db';
import type { SipCoreOptions } from '../src/config.ts';
import { runTrial, writeCsv } from './registrar.ts';
import {
  createBenchDatabase,
  DOMAIN,
  freeUdpPort,
  HERE,
  loadAverage,
  RESULTS_DIR,
  startSplit,
} from './support.ts';

const SIZES = (process.env.BENCH_SCALE_SIZES ?? '10000,100000,1000000')
  .split(',')
  .filter((size) => size.trim() !== '')
  .map(Number);
const LIVE = Number(process.env.BENCH_SCALE_LIVE ?? 100_000);
const LIVE_RATE = Number(process.env.BENCH_SCALE_RATE ?? 500);
/** BENCH_SCALE_INDEXES_ONLY=1: only the index loads per size, no engine + sip-core start (a million's quick row). */
const INDEXES_ONLY = process.env.BENCH_SCALE_INDEXES_ONLY === '1';
/**
 * BENCH_SCALE_PROCESSES=one: engine and sip-core in one process, linked as the all-in-one launcher runs
 * them; default `two` (the split layout, each in its own process).
 */
const PROCESSES = process.env.BENCH_SCALE_PROCESSES === 'one' ? 'one' : 'two';
/** Seconds after start-up or the last registration before memory is read (timers, write-behind settle). */
const SETTLE_S = 10;
/**
 * Seconds after start-up or the last registration when memory is read again: an idle V8 gives the
 * heap pages that the loads or the registrations grew back to the OS only some time later (its memory
 * reducer), so the first reading shows the peak's pages and this one what the process keeps
 * (BENCH_SCALE_SETTLED_S, default 60).
 */
const SETTLED_S = Number(process.env.BENCH_SCALE_SETTLED_S ?? 60);
/**
 * BENCH_SCALE_REFRESH_RATE=<n>/s: after the settled reading, the first devices refresh their
 * registrations (same Contact, new Call-ID) at that rate for BENCH_SCALE_REFRESH_S seconds (default
 * 120), and memory is sampled every second meanwhile: what the process holds under the steady
 * refresh traffic of a registered population rather than idle after a burst. 0 (default): no phase.
 */
const REFRESH_RATE = Number(process.env.BENCH_SCALE_REFRESH_RATE ?? 0);
const REFRESH_S = Number(process.env.BENCH_SCALE_REFRESH_S ?? 120);

/** sip-core's heap limit in the bench: a million subscribers, numbers and bindings need some 3 GB. */
const HEAP_LIMIT_MB = 8192;
const MB = 1024 * 1024;
const mb = (bytes: number): number => Number((bytes / MB).toFixed(1));

/** Resident memory of one process, from /proc (0 once it is gone). */
function rss(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return line ? Number(line[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * `count` subscribers `user00001`... of one customer in DOMAIN with the bench's passwords (the same
 * HA1 values as `sipHa1`), one primary number each, and when `bindings`, one unexpired binding each
 * shaped like a desk phone's behind NAT. The change triggers are off while the rows are written (no
 * one listens yet, and a million notifications would only fill the queue).
 */
async function seed(db: Database, count: number, bindings: boolean): Promise<void> {
  const tables = ['subscribers', 'numbers', 'registrations'];
  await db.prisma.$transaction(
    async (tx) => {
      for (const table of tables) await tx.$executeRawUnsafe(`ALTER TABLE "${table}" DISABLE TRIGGER USER`);
      const [customer] = await tx.$queryRawUnsafe<{ id: string }[]>(
        `INSERT INTO customers (id, name, updated_at) VALUES (gen_random_uuid(), 'scale', now()) RETURNING id`,
      );
      const [domain] = await tx.$queryRawUnsafe<{ id: string }[]>(
        `INSERT INTO domains (id, name, updated_at) VALUES (gen_random_uuid(), $1, now()) RETURNING id`,
        DOMAIN,
      );
      await tx.$executeRawUnsafe(
        `INSERT INTO subscribers (id, customer_id, domain_id, username, ha1_md5, ha1_sha256, updated_at)
         SELECT gen_random_uuid(), $1::uuid, $2::uuid, u,
                md5(u || ':' || $3 || ':pw-' || g || '-secret'),
                encode(sha256(convert_to(u || ':' || $3 || ':pw-' || g || '-secret', 'UTF8')), 'hex'), now()
         FROM generate_series(1, $4::int) g, LATERAL (SELECT 'user' || CASE WHEN g >= 10000 THEN g::text ELSE lpad(g::text, 5, '0') END AS u) name`,
        customer!.id,
        domain!.id,
        DOMAIN,
        count,
      );
      await tx.$executeRawUnsafe(
        `INSERT INTO numbers (id, subscriber_id, e164, country_code, area_code, subscriber_number, is_primary, updated_at)
         SELECT gen_random_uuid(), id, '+431' || substr(username, 5), '43', '1', substr(username, 5), true, now()
         FROM subscribers`,
      );
      if (bindings)
        await tx.$executeRawUnsafe(
          `INSERT INTO registrations (id, subscriber_id, aor, binding_key, contact_uri, received_address,
             received_port, transport, local_socket, expires_at, user_agent, instance_id, call_id, cseq, node, updated_at)
           SELECT gen_random_uuid(), s.id, 'sip:' || s.username || '@' || $1, k.instance,
                  'sip:' || s.username || '@192.168.' || (n % 250) || '.' || (n % 200 + 2) || ':5060;transport=udp',
                  '10.' || (n / 65536 % 256) || '.' || (n / 256 % 256) || '.' || (n % 256), 1024 + n % 60000,
                  'udp', 'udp:127.0.0.1:5060', now() + interval '2 hours', 'Yealink SIP-T46U 66.86.0.15',
                  k.instance, md5(s.id::text) || '@192.168.1.2', 2, 'scale', now()
           FROM (SELECT id, username, row_number() OVER () AS n FROM subscribers) s,
                LATERAL (SELECT '<urn:uuid:' || gen_random_uuid() || '>' AS instance) k`,
          DOMAIN,
        );
      for (const table of tables) await tx.$executeRawUnsafe(`ALTER TABLE "${table}" ENABLE TRIGGER USER`);
    },
    { timeout: 30 * 60_000, maxWait: 60_000 },
  );
}

interface IndexLoads {
  directory: { bytes: number; ms: number };
  numbering: { bytes: number; ms: number };
  location: { bytes: number; ms: number };
  directoryReloadMs: number;
}

/** bench/scale-indexes.ts in a fresh process with room for a million of everything. */
function measureIndexes(databaseUrl: string): Promise<IndexLoads> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${HEAP_LIMIT_MB}`, '--import', 'tsx', join(HERE, 'scale-indexes.ts')],
      {
        cwd: join(HERE, '..'),
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
      },
    );
    let out = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 30 * 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(guard);
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) reject(new Error(`scale-indexes exited with ${code}`));
      else resolve(JSON.parse(line) as IndexLoads);
    });
  });
}

/** sip-core as the registrar bench runs it: loopback trusted, no keep-alives. */
function sipCoreOptions(enginePort: number, secret: string): SipCoreOptions {
  return {
    drachtio: { host: '127.0.0.1', port: enginePort, secret },
    nodeName: 'scale',
    access: { trustedSources: ['127.0.0.0/8'], rateLimitPerSecond: 0 },
    nat: { keepaliveInterval: 0 },
  };
}

const sleep = (seconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, seconds * 1000));

async function measureSize(dir: string, count: number): Promise<Record<string, unknown>> {
  const bench = await createBenchDatabase(dir);
  try {
    const seeding = Date.now();
    await seed(bench.db, count, true);
    console.log(`scale ${count}: seeded in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
    const loads = await measureIndexes(bench.url);
    console.log(`scale ${count}: indexes ${JSON.stringify(loads)}`);
    if (INDEXES_ONLY) return { subscribers: count, indexes: loads, load: loadAverage() };
    const started = Date.now();
    // A minute per 100,000 subscribers on a loaded machine; the heap limit fits a million of each.
    process.env.NODE_OPTIONS =
      `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_LIMIT_MB}`.trim();
    const running = await startSplit(
      bench.url,
      sipCoreOptions,
      120 + Math.ceil(count / 100_000) * 60,
      PROCESSES,
    );
    const startS = (Date.now() - started) / 1000;
    try {
      await sleep(SETTLE_S);
      const pids = running.pids!;
      const early = { sipCore: rss(pids.sipCore), engine: PROCESSES === 'one' ? 0 : rss(pids.engine) };
      await sleep(SETTLED_S - SETTLE_S);
      process.kill(pids.sipCore, 'SIGUSR2');
      const row = {
        subscribers: count,
        directoryMB: mb(loads.directory.bytes),
        directoryBytesPerSubscriber: Math.round(loads.directory.bytes / count),
        directoryLoadS: Number((loads.directory.ms / 1000).toFixed(2)),
        directoryReloadS: Number((loads.directoryReloadMs / 1000).toFixed(2)),
        numberingMB: mb(loads.numbering.bytes),
        numberingBytesPerNumber: Math.round(loads.numbering.bytes / count),
        numberingLoadS: Number((loads.numbering.ms / 1000).toFixed(2)),
        locationMB: mb(loads.location.bytes),
        locationBytesPerBinding: Math.round(loads.location.bytes / count),
        locationLoadS: Number((loads.location.ms / 1000).toFixed(2)),
        sipCoreStartS: Number(startS.toFixed(1)),
        processes: PROCESSES,
        sipCoreRssMB: mb(early.sipCore),
        // One process: the figures for sip-core hold both.
        engineRssMB: mb(early.engine),
        [`sipCoreRssMBAfter${SETTLED_S}s`]: mb(rss(pids.sipCore)),
        [`engineRssMBAfter${SETTLED_S}s`]: PROCESSES === 'one' ? 0 : mb(rss(pids.engine)),
        load: loadAverage(),
      };
      console.log(`scale ${count}: ${JSON.stringify(row)}`);
      return row;
    } finally {
      await running.stop();
    }
  } finally {
    await bench.drop();
  }
}

/** LIVE devices registering for real: engine + sip-core memory before and after. */
async function measureLive(dir: string): Promise<Record<string, unknown>> {
  const bench = await createBenchDatabase(dir);
  try {
    await seed(bench.db, LIVE, false);
    const csv = writeCsv(dir, LIVE);
    const running = await startSplit(bench.url, sipCoreOptions, 120, PROCESSES);
    try {
      await sleep(SETTLED_S);
      const pids = running.pids!;
      const engineRss = (): number => (PROCESSES === 'one' ? 0 : rss(pids.engine));
      const before = { engine: engineRss(), sipCore: rss(pids.sipCore) };
      const sippPort = await freeUdpPort();
      const trial = await runTrial(running.remote, csv, LIVE_RATE, dir, LIVE, sippPort);
      await sleep(SETTLE_S);
      const early = { engine: engineRss(), sipCore: rss(pids.sipCore) };
      await sleep(SETTLED_S - SETTLE_S);
      const after = { engine: engineRss(), sipCore: rss(pids.sipCore) };
      const refresh =
        REFRESH_RATE > 0
          ? await measureRefresh(
              () => engineRss() + rss(pids.sipCore),
              (count) => runTrial(running.remote, csv, REFRESH_RATE, dir, count, sippPort),
            )
          : undefined;
      // What sip-core's heap holds then, live and in RAM, and its RSS once compacted (the process
      // prints it on stderr).
      process.kill(pids.sipCore, 'SIGUSR2');
      await sleep(process.env.BENCH_HEAP_SNAPSHOT ? 90 : 5);
      const total = after.engine + after.sipCore;
      const row = {
        processes: PROCESSES,
        devices: LIVE,
        registered: trial.successful,
        failed: trial.failed,
        rate: LIVE_RATE,
        engineRssMB: { before: mb(before.engine), after: mb(after.engine) },
        sipCoreRssMB: { before: mb(before.sipCore), after: mb(after.sipCore) },
        [`totalRssMBAfter${SETTLE_S}s`]: mb(early.engine + early.sipCore),
        totalRssMB: mb(total),
        bytesPerDevice: Math.round((total - before.engine - before.sipCore) / Math.max(1, trial.successful)),
        ...(refresh ? { refresh } : {}),
        load: loadAverage(),
      };
      console.log(`scale live: ${JSON.stringify(row)}`);
      return row;
    } finally {
      await running.stop();
    }
  } finally {
    await bench.drop();
  }
}

/** The refresh phase: engine + sip-core RSS sampled each second while devices refresh. */
async function measureRefresh(
  totalRss: () => number,
  refreshing: (count: number) => Promise<{ successful: number; failed: number }>,
): Promise<Record<string, unknown>> {
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(totalRss()), 1000);
  try {
    const trial = await refreshing(Math.min(LIVE, REFRESH_RATE * REFRESH_S));
    const sorted = [...samples].sort((a, b) => a - b);
    return {
      rate: REFRESH_RATE,
      refreshed: trial.successful,
      failed: trial.failed,
      totalRssMB: {
        min: mb(sorted[0] ?? 0),
        median: mb(sorted[Math.floor(sorted.length / 2)] ?? 0),
        max: mb(sorted.at(-1) ?? 0),
        last: mb(samples.at(-1) ?? 0),
      },
    };
  } finally {
    clearInterval(sampler);
  }
}

export async function benchScale(dir: string): Promise<void> {
  console.log(`scale bench: sizes ${SIZES.join(', ')}; ${LIVE} live registrations at ${LIVE_RATE}/s`);
  const sizes = [];
  for (const count of SIZES) sizes.push(await measureSize(dir, count));
  const live = LIVE > 0 ? await measureLive(dir) : null;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, 'scale.json'),
    `${JSON.stringify({ date: new Date().toISOString(), sizes, live, loadAverageAtEnd: loadavg() }, null, 2)}\n`,
  );
}
