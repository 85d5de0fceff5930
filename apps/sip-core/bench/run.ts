/**
 * Registrar benchmark: REGISTER with digest authentication for BENCH_USERS (10 000) subscribers with
 * sipp, against engine + sip-core + PostgreSQL and against Kamailio 5.6 (db_text subscribers, bindings
 * in memory) as the reference. For each, the highest call rate (one call = REGISTER, 401, REGISTER
 * with credentials, 200) at which all subscribers register with 0 failed calls and 0 retransmissions.
 *
 * Run: pnpm --filter @switchboard/sip-core bench   (needs PostgreSQL, sipp, kamailio; loopback only)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, sipHa1 } from '@switchboard/db';
import { startEngine } from '@switchboard/engine';
import pg from 'pg';
import { pino } from 'pino';
import { startSipCore } from '../src/start.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const START_RATE = Number(process.env.BENCH_START_RATE ?? 100);
const MAX_RATE = Number(process.env.BENCH_MAX_RATE ?? 6400);
/** Bisection steps between the last clean rate and the first failing one. */
const REFINE_STEPS = Number(process.env.BENCH_REFINE_STEPS ?? 3);
/** Which registrars to measure: `sip-core`, `kamailio` or both (comma-separated). */
const TARGETS = (process.env.BENCH_TARGETS ?? 'sip-core,kamailio').split(',');
const DOMAIN = 'bench.test';
const DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test';
const log = pino({ level: process.env.BENCH_LOG ?? 'warn' });

interface Trial {
  rate: number;
  ok: boolean;
  successful: number;
  failed: number;
  retransmissions: number;
  seconds: number;
}

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

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const tryPort = (attempt: number): void => {
      if (attempt > 50) {
        reject(new Error('no free port in 17000-17999'));
        return;
      }
      const port = 17000 + Math.floor(Math.random() * 1000);
      const socket = createSocket('udp4');
      socket.once('error', () => tryPort(attempt + 1));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(port)));
    };
    tryPort(0);
  });
}

/** One sipp run registering every subscriber at `rate` calls per second. */
async function runTrial(remote: string, csv: string, rate: number, dir: string): Promise<Trial> {
  const port = await freeUdpPort();
  const statFile = join(dir, `stat-${rate}-${Date.now()}.csv`);
  const limitS = Math.ceil(USERS / rate) + 60;
  const started = Date.now();
  const args = [
    '-sf',
    join(HERE, 'register.xml'),
    '-inf',
    csv,
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-ci',
    '127.0.0.1',
    '-cp',
    String(port + 1),
    '-nostdin',
    '-m',
    String(USERS),
    '-r',
    String(rate),
    '-rp',
    '1000',
    '-t',
    'u1',
    '-timeout',
    `${limitS}s`,
    '-timeout_error',
    '-buff_size',
    '4194304',
    '-trace_stat',
    '-stf',
    statFile,
    '-fd',
    '3600',
    remote,
  ];
  const child: ChildProcess = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const seconds = (Date.now() - started) / 1000;
  const rows = readFileSync(statFile, 'utf8').trim().split('\n');
  const header = rows[0]!.split(';');
  const last = rows[rows.length - 1]!.split(';');
  const column = (name: string): number => Number(last[header.indexOf(name)] ?? Number.NaN);
  const successful = column('SuccessfulCall(C)');
  const failed = column('FailedCall(C)');
  const retransmissions = column('Retransmissions(C)');
  const ok = code === 0 && failed === 0 && retransmissions === 0 && successful === USERS;
  return { rate, ok, successful, failed, retransmissions, seconds };
}

/** Doubles the rate until a trial is not clean, then bisects; returns every trial. */
async function findMaxRate(name: string, remote: string, csv: string, dir: string): Promise<Trial[]> {
  const trials: Trial[] = [];
  const run = async (rate: number): Promise<Trial> => {
    const trial = await runTrial(remote, csv, rate, dir);
    trials.push(trial);
    console.log(
      `${name}: ${rate} cps -> ${trial.ok ? 'clean' : 'NOT clean'} (ok ${trial.successful}, failed ${trial.failed}, retrans ${trial.retransmissions}, ${trial.seconds.toFixed(1)} s)`,
    );
    return trial;
  };
  let good = 0;
  let bad = 0;
  for (let rate = START_RATE; rate <= MAX_RATE; rate *= 2) {
    if ((await run(rate)).ok) good = rate;
    else {
      bad = rate;
      break;
    }
  }
  // Bisect only between a clean and a failing rate: below the start rate runs get long, and a
  // registrar that is not clean there is reported as such.
  for (let step = 0; good > 0 && bad > 0 && step < REFINE_STEPS && bad - good > 10; step++) {
    const rate = Math.round((good + bad) / 2);
    if ((await run(rate)).ok) good = rate;
    else bad = rate;
  }
  return trials;
}

const best = (trials: Trial[]): number => Math.max(0, ...trials.filter((t) => t.ok).map((t) => t.rate));

async function benchSipCore(dir: string, csv: string): Promise<Trial[]> {
  const name = `sipcore_bench_${randomBytes(4).toString('hex')}`;
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const adminClient = new pg.Client({ connectionString: admin.toString() });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), dataDir: dir, log });
  try {
    await db.migrate();
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
      return await findMaxRate('sip-core', `127.0.0.1:${engine.listeners[0]!.port}`, csv, dir);
    } finally {
      await sipCore.close();
      await engine.close();
    }
  } finally {
    await db.close();
    await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminClient.end();
  }
}

async function benchKamailio(dir: string, csv: string): Promise<Trial[]> {
  const dbDir = join(dir, 'kamailio-db');
  mkdirSync(dbDir);
  writeFileSync(join(dbDir, 'version'), 'table_name(string) table_version(int)\nsubscriber:7\n');
  const rows = ['id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string)'];
  for (let i = 1; i <= USERS; i++) {
    const { ha1Md5 } = sipHa1(user(i), DOMAIN, password(i));
    rows.push(`${i}:${user(i)}:${DOMAIN}:x:${ha1Md5}:${ha1Md5}`);
  }
  writeFileSync(join(dbDir, 'subscriber'), `${rows.join('\n')}\n`);
  const port = await freeUdpPort();
  const cfg = readFileSync(join(HERE, 'kamailio.cfg'), 'utf8')
    .replaceAll('@LISTEN@', `127.0.0.1:${port}`)
    .replaceAll('@DBURL@', `text://${dbDir}`);
  writeFileSync(join(dir, 'kamailio.cfg'), cfg);
  const runDir = join(dir, 'kamailio-run');
  mkdirSync(runDir);
  const kamailio = spawn(
    'kamailio',
    [
      '-f',
      join(dir, 'kamailio.cfg'),
      '-DD',
      '-E',
      '-w',
      dir,
      '-Y',
      runDir,
      '-P',
      join(runDir, 'pid'),
      '-m',
      '256',
      '-M',
      '32',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  kamailio.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-5000);
  });
  try {
    await waitForOptions(port, () => stderr);
    return await findMaxRate('kamailio', `127.0.0.1:${port}`, csv, dir);
  } finally {
    kamailio.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (kamailio.exitCode === null) kamailio.kill('SIGKILL');
  }
}

/** Bounded wait until something answers OPTIONS on 127.0.0.1:port. */
async function waitForOptions(port: number, diagnostics: () => string): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    for (let attempt = 0; attempt < 40; attempt++) {
      const local = socket.address().port;
      const message = [
        `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${attempt}x${Date.now()}`,
        'From: <sip:bench@127.0.0.1>;tag=1',
        `To: <sip:127.0.0.1:${port}>`,
        `Call-ID: ping-${attempt}-${Date.now()}`,
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      const answered = new Promise<boolean>((resolve) => {
        const onMessage = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          socket.removeListener('message', onMessage);
          resolve(false);
        }, 500);
        socket.once('message', onMessage);
      });
      socket.send(message, port, '127.0.0.1');
      if (await answered) return;
    }
    throw new Error(`kamailio did not answer OPTIONS:\n${diagnostics()}`);
  } finally {
    socket.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'registrar-bench-'));
  try {
    const csv = writeCsv(dir);
    console.log(`registrar bench: ${USERS} subscribers, REGISTER + 401 + REGISTER(auth) + 200 per call`);
    const sipCore = TARGETS.includes('sip-core') ? await benchSipCore(dir, csv) : [];
    const kamailio = TARGETS.includes('kamailio') ? await benchKamailio(dir, csv) : [];
    const ours = best(sipCore);
    const reference = best(kamailio);
    const report = {
      users: USERS,
      sipCore: { maxCleanRate: ours, trials: sipCore },
      kamailio: { maxCleanRate: reference, trials: kamailio },
      ratio: reference > 0 ? Number((ours / reference).toFixed(3)) : null,
    };
    const resultsDir = join(HERE, '..', '..', '..', 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'registrar.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`sip-core: ${ours} cps clean; kamailio: ${reference} cps clean; ratio ${report.ratio}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
