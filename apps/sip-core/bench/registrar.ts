/**
 * Registrar benchmark: REGISTER with digest authentication for BENCH_USERS (10 000) subscribers with
 * sipp, against engine + sip-core + PostgreSQL, against sip-core on the C++ drachtio-server
 * (DRACHTIO_SERVER_BIN; the row is skipped with a note without it) and against Kamailio 5.6 (HA1 values in
 * memory, bindings in memory) as the reference. For each, the highest call rate (one call = REGISTER, 401, REGISTER
 * with credentials, 200) at which all subscribers register with 0 failed calls and 0 retransmissions,
 * and the CPU seconds each registrar's processes spend per 1000 registrations.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sipHa1 } from '@switchboard/db';
import type { SipCoreOptions } from '../src/config.ts';
import { drachtioServerMissing, startSipCoreOnDrachtioServer } from './drachtio-server.ts';
import {
  type CpuMeter,
  createBenchDatabase,
  DOMAIN,
  HERE,
  LAYOUT,
  measureRates,
  provisionSubscribers,
  type RateResult,
  rateSearch,
  sippTrial,
  startKamailio,
  startSipCoreUnderTest,
  type Trial,
  writeReport,
} from './support.ts';

const USERS = Number(process.env.BENCH_USERS ?? 10_000);
/** Seconds after each trial whose CPU time still counts (deferred work), default 35. */
const DRAIN_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 35);
/** The rate of the uncounted warm-up registrations. */
const WARMUP_RATE = 200;

export const user = (i: number): string => `user${String(i).padStart(5, '0')}`;
export const password = (i: number): string => `pw-${i}-secret`;
/** The bench's BENCH_USERS subscribers, user00001 to its last. */
const subscribers = () =>
  Array.from({ length: USERS }, (_, i) => ({ username: user(i + 1), password: password(i + 1) }));

export function writeCsv(dir: string, users = USERS): string {
  const lines = ['SEQUENTIAL'];
  for (let i = 1; i <= users; i++)
    lines.push(`${user(i)};${DOMAIN};[authentication username=${user(i)} password=${password(i)}]`);
  const file = join(dir, 'users.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** One sipp run registering `calls` subscribers (default: every one) at `rate` calls per second. */
export async function runTrial(
  remote: string,
  csv: string,
  rate: number,
  dir: string,
  calls = USERS,
  /** sipp's local port; the same port again makes the same Contact, so a second run refreshes. */
  localPort?: number,
): Promise<Trial> {
  const scenario = join(HERE, 'register.xml');
  return sippTrial({ scenario, csv, rate, count: calls, dir, remote, port: localPort });
}

const SEARCH = rateSearch({ start: 100, max: 6400, refineSteps: 3 });

/** Idle CPU, warm-up, then the rate search with the CPU of every trial counted. */
function measure(target: CpuMeter, remote: string, csv: string, dir: string): Promise<RateResult> {
  return measureRates(
    target,
    { warmupRate: WARMUP_RATE, search: SEARCH, drainSeconds: DRAIN_SECONDS },
    (rate, calls) => runTrial(remote, csv, rate, dir, calls),
  );
}

/**
 * sip-core as the registrar benchmark runs it: every request comes from sipp on loopback, so loopback
 * is trusted (no rate limit, no ban) and there are no keep-alives; everything else is the default,
 * except the write-behind window when BENCH_WRITE_BEHIND_MS names one (0: write-through).
 */
function sipCoreOptions(enginePort: number, secret: string): SipCoreOptions {
  return {
    drachtio: { host: '127.0.0.1', port: enginePort, secret },
    nodeName: 'bench',
    access: { trustedSources: ['127.0.0.0/8'], rateLimitPerSecond: 0 },
    nat: { keepaliveInterval: 0 },
    ...(process.env.BENCH_WRITE_BEHIND_MS === undefined
      ? {}
      : { registrar: { writeBehindMs: Number(process.env.BENCH_WRITE_BEHIND_MS) } }),
  };
}

/** sip-core on our engine (BENCH_LAYOUT) or on drachtio-server, with the subscribers in a fresh database. */
async function benchSipCore(
  dir: string,
  csv: string,
  engine: 'ours' | 'drachtio-server',
): Promise<RateResult> {
  const bench = await createBenchDatabase(dir);
  try {
    await provisionSubscribers(bench.db, DOMAIN, subscribers());
    const sipCore =
      engine === 'ours'
        ? await startSipCoreUnderTest(bench, sipCoreOptions)
        : await startSipCoreOnDrachtioServer(bench.db, sipCoreOptions);
    try {
      return await measure(sipCore, sipCore.remote, csv, dir);
    } finally {
      await sipCore.stop();
    }
  } finally {
    await bench.drop();
  }
}

/**
 * The same subscribers' HA1 values as a db_text table that Kamailio's htable module loads into memory
 * once at start-up (key `user@domain`), so that Kamailio, like sip-core's directory, reads no table per
 * request.
 */
export function writeKamailioSubscribers(
  dir: string,
  users: { username: string; password: string }[],
  domain: string,
): string {
  const dbDir = join(dir, `kamailio-db-${randomBytes(2).toString('hex')}`);
  mkdirSync(dbDir);
  writeFileSync(join(dbDir, 'version'), 'table_name(string) table_version(int)\nhtable:2\n');
  const rows = ['id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int)'];
  users.forEach(({ username, password }, i) => {
    const { ha1Md5 } = sipHa1(username, domain, password);
    rows.push(`${i + 1}:${username}@${domain}:0:0:${ha1Md5}:0`);
  });
  writeFileSync(join(dbDir, 'htable'), `${rows.join('\n')}\n`);
  return `text://${dbDir}`;
}

async function benchKamailio(dir: string, csv: string): Promise<RateResult> {
  const users = subscribers();
  const kamailio = await startKamailio(
    'kamailio.cfg',
    { DBURL: writeKamailioSubscribers(dir, users, DOMAIN) },
    dir,
  );
  try {
    return await measure(kamailio, `127.0.0.1:${kamailio.port}`, csv, dir);
  } finally {
    await kamailio.stop();
  }
}

export async function benchRegistrar(dir: string, targets: string[]): Promise<void> {
  const csv = writeCsv(dir);
  console.log(
    `registrar bench: ${USERS} subscribers, REGISTER + 401 + REGISTER(auth) + 200 per call, layout ${LAYOUT}`,
  );
  const none: RateResult = { trials: [], idleCpuPerSecond: 0 };
  const sipCore = targets.includes('sip-core') ? await benchSipCore(dir, csv, 'ours') : none;
  // The same sip-core on the original engine; without its binary the row says why it is empty.
  const missing = drachtioServerMissing();
  if (targets.includes('drachtio-server') && missing) console.log(`drachtio-server: skipped, ${missing}`);
  const onDrachtio =
    targets.includes('drachtio-server') && !missing
      ? await benchSipCore(dir, csv, 'drachtio-server')
      : { ...none, skipped: missing ?? 'not among BENCH_TARGETS' };
  const kamailio = targets.includes('kamailio') ? await benchKamailio(dir, csv) : none;
  writeReport('registrar', { users: USERS, layout: LAYOUT, drainSeconds: DRAIN_SECONDS }, sipCore, kamailio, {
    others: { sipCoreOnDrachtioServer: onDrachtio },
    targets: { cleanRate: 0.5, cpu: 4 },
  });
}
