/**
 * Registrar benchmark: REGISTER with digest authentication for BENCH_USERS (10 000) subscribers with
 * sipp, against engine + sip-core + PostgreSQL and against Kamailio 5.6 (db_text subscribers, bindings
 * in memory) as the reference. For each, the highest call rate (one call = REGISTER, 401, REGISTER
 * with credentials, 200) at which all subscribers register with 0 failed calls and 0 retransmissions.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sipHa1 } from '@switchboard/db';
import { startEngine } from '@switchboard/engine';
import { startSipCore } from '../src/start.ts';
import {
  best,
  createBenchDatabase,
  findMaxRate,
  freeUdpPort,
  HERE,
  loadAverage,
  log,
  RESULTS_DIR,
  rateSearch,
  runSipp,
  startKamailio,
  type Trial,
} from './support.ts';

const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const DOMAIN = 'bench.test';

const user = (i: number): string => `user${String(i).padStart(5, '0')}`;
const password = (i: number): string => `pw-${i}-secret`;

function writeCsv(dir: string): string {
  const lines = ['SEQUENTIAL'];
  for (let i = 1; i <= USERS; i++)
    lines.push(`${user(i)};${DOMAIN};[authentication username=${user(i)} password=${password(i)}]`);
  const file = join(dir, 'users.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** One sipp run registering every subscriber at `rate` calls per second. */
async function runTrial(remote: string, csv: string, rate: number, dir: string): Promise<Trial> {
  const port = await freeUdpPort();
  const limitS = Math.ceil(USERS / rate) + 60;
  const args = ['-sf', join(HERE, 'register.xml'), '-inf', csv, '-m', String(USERS), '-r', String(rate)];
  const stats = await runSipp([...args, '-rp', '1000'], port, dir, limitS, remote).done;
  const ok =
    stats.code === 0 && stats.failed === 0 && stats.retransmissions === 0 && stats.successful === USERS;
  return {
    rate,
    ok,
    successful: stats.successful,
    failed: stats.failed,
    retransmissions: stats.retransmissions,
    seconds: stats.seconds,
    load: loadAverage(),
  };
}

const SEARCH = rateSearch({ start: 100, max: 6400, refineSteps: 3 });

async function benchSipCore(dir: string, csv: string): Promise<Trial[]> {
  const { db, drop } = await createBenchDatabase(dir);
  try {
    const customer = await db.prisma.customer.create({ data: { name: 'bench' } });
    const domain = await db.prisma.domain.create({ data: { name: DOMAIN } });
    for (let from = 1; from <= USERS; from += 1000) {
      const data = [];
      for (let i = from; i < Math.min(from + 1000, USERS + 1); i++)
        data.push({
          customerId: customer.id,
          domainId: domain.id,
          username: user(i),
          ...sipHa1(user(i), DOMAIN, password(i)),
        });
      await db.prisma.subscriber.createMany({ data });
    }
    const secret = randomBytes(16).toString('hex');
    const engine = await startEngine(
      {
        sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
        engineAdmin: { host: '127.0.0.1', port: 0 },
        engineSecret: secret,
      },
      { logger: log },
    );
    const sipCore = await startSipCore(
      {
        drachtio: { host: '127.0.0.1', port: engine.adminAddress.port, secret },
        nodeName: 'bench',
        access: { trustedSources: ['127.0.0.0/8'], rateLimitPerSecond: 0 },
        nat: { keepaliveInterval: 0 },
      },
      { prisma: db.prisma, db, logger: log },
    );
    try {
      const remote = `127.0.0.1:${engine.listeners[0]!.port}`;
      return await findMaxRate('sip-core', SEARCH, (rate) => runTrial(remote, csv, rate, dir));
    } finally {
      await sipCore.close();
      await engine.close();
    }
  } finally {
    await drop();
  }
}

/** db_text table of the same subscribers (HA1 only) for Kamailio's auth_db. */
export function writeKamailioSubscribers(
  dir: string,
  users: { username: string; password: string }[],
  domain: string,
): string {
  const dbDir = join(dir, `kamailio-db-${randomBytes(2).toString('hex')}`);
  mkdirSync(dbDir);
  writeFileSync(join(dbDir, 'version'), 'table_name(string) table_version(int)\nsubscriber:7\n');
  const rows = ['id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string)'];
  users.forEach(({ username, password }, i) => {
    const { ha1Md5 } = sipHa1(username, domain, password);
    rows.push(`${i + 1}:${username}:${domain}:x:${ha1Md5}:${ha1Md5}`);
  });
  writeFileSync(join(dbDir, 'subscriber'), `${rows.join('\n')}\n`);
  return `text://${dbDir}`;
}

async function benchKamailio(dir: string, csv: string): Promise<Trial[]> {
  const users = Array.from({ length: USERS }, (_, i) => ({
    username: user(i + 1),
    password: password(i + 1),
  }));
  const kamailio = await startKamailio(
    'kamailio.cfg',
    { DBURL: writeKamailioSubscribers(dir, users, DOMAIN) },
    dir,
  );
  try {
    const remote = `127.0.0.1:${kamailio.port}`;
    return await findMaxRate('kamailio', SEARCH, (rate) => runTrial(remote, csv, rate, dir));
  } finally {
    await kamailio.stop();
  }
}

export async function benchRegistrar(dir: string, targets: string[]): Promise<void> {
  const csv = writeCsv(dir);
  console.log(`registrar bench: ${USERS} subscribers, REGISTER + 401 + REGISTER(auth) + 200 per call`);
  const sipCore = targets.includes('sip-core') ? await benchSipCore(dir, csv) : [];
  const kamailio = targets.includes('kamailio') ? await benchKamailio(dir, csv) : [];
  const ours = best(sipCore);
  const reference = best(kamailio);
  const report = {
    users: USERS,
    sipCore: { maxCleanRate: ours, trials: sipCore },
    kamailio: { maxCleanRate: reference, trials: kamailio },
    ratio: reference > 0 ? Number((ours / reference).toFixed(3)) : null,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'registrar.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`sip-core: ${ours} cps clean; kamailio: ${reference} cps clean; ratio ${report.ratio}`);
}
