/**
 * Registrar benchmark: REGISTER with digest authentication for BENCH_USERS (10 000) subscribers with
 * sipp, against engine + sip-core + PostgreSQL and against Kamailio 5.6 (db_text subscribers, bindings
 * in memory) as the reference. For each, the highest call rate (one call = REGISTER, 401, REGISTER
 * with credentials, 200) at which all subscribers register with 0 failed calls and 0 retransmissions.
 *
 * Run: pnpm --filter @switchboard/sip-core bench   (needs PostgreSQL, sipp, kamailio; loopback only)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Database, openDatabase, sipHa1 } from '@switchboard/db';
import { startEngine } from '@switchboard/engine';
import pg from 'pg';
import { pino } from 'pino';
import { startSipCore } from '../src/start.ts';
import { benchSipCoreOptions } from './sip-core-options.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const START_RATE = Number(process.env.BENCH_START_RATE ?? 100);
const MAX_RATE = Number(process.env.BENCH_MAX_RATE ?? 6400);
/** Seconds after each trial whose CPU time still counts (deferred work), default 35. */
const DRAIN_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 35);
/** Registrations sent at 200/s before the first trial and not counted (BENCH_WARMUP_CALLS). */
const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 2000);
/** Seconds of no traffic over which the registrar's idle CPU use is measured. */
const IDLE_SECONDS = 10;
/** Bisection steps between the last clean rate and the first failing one. */
const REFINE_STEPS = Number(process.env.BENCH_REFINE_STEPS ?? 3);
/** Which registrars to measure: `sip-core`, `kamailio` or both (comma-separated). */
const TARGETS = (process.env.BENCH_TARGETS ?? 'sip-core,kamailio').split(',');
/** `one`: engine and sip-core in one process (the all-in-one launcher); `split`: two processes. */
const LAYOUT = process.env.BENCH_LAYOUT === 'split' ? 'split' : 'one';
/** When set, a V8 CPU profile of the registrar per trial (one process) or per process (split) goes here. */
const PROFILE_DIR = process.env.BENCH_PROFILE;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
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
  /** CPU time (user + system) the registrar's processes spent during the trial. */
  cpuSeconds: number;
  /** The same per 1000 registrations (each one REGISTER/401/REGISTER/200). */
  cpuSecondsPer1000: number;
}

/** The trials of one registrar and its CPU use with no traffic. */
interface Result {
  trials: Trial[];
  idleCpuPerSecond: number;
}

/** A registrar under test: where sipp sends, and how much CPU its processes have used so far. */
interface Target {
  name: string;
  remote: string;
  cpuSeconds(): number;
  /** CPU the registrar uses per second with no traffic, measured before the first trial. */
  idleCpuPerSecond: number;
  /** Called around each trial (the in-process target records a CPU profile when BENCH_PROFILE is set). */
  beforeTrial?(rate: number): Promise<void>;
  afterTrial?(rate: number): Promise<void>;
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
async function runTrial(
  target: Target,
  csv: string,
  rate: number,
  dir: string,
  /** A warm-up: `calls` registrations, no profile, no drain. */
  warmup?: { calls: number },
): Promise<Trial> {
  const calls = warmup?.calls ?? USERS;
  const remote = target.remote;
  const port = await freeUdpPort();
  const statFile = join(dir, `stat-${rate}-${Date.now()}.csv`);
  const limitS = Math.ceil(calls / rate) + 60;
  if (!warmup) await target.beforeTrial?.(rate);
  const cpuBefore = target.cpuSeconds();
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
    String(calls),
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
  // Work deferred past the last answer (the engine's server transactions linger 32 s for
  // retransmissions, Timer J; bindings are written behind) belongs to these registrations too.
  if (!warmup) await new Promise((resolve) => setTimeout(resolve, DRAIN_SECONDS * 1000));
  const cpuSeconds = target.cpuSeconds() - cpuBefore - target.idleCpuPerSecond * (seconds + DRAIN_SECONDS);
  if (!warmup) await target.afterTrial?.(rate);
  const rows = readFileSync(statFile, 'utf8').trim().split('\n');
  const header = rows[0]!.split(';');
  const last = rows[rows.length - 1]!.split(';');
  const column = (name: string): number => Number(last[header.indexOf(name)] ?? Number.NaN);
  const successful = column('SuccessfulCall(C)');
  const failed = column('FailedCall(C)');
  const retransmissions = column('Retransmissions(C)');
  const ok = code === 0 && failed === 0 && retransmissions === 0 && successful === calls;
  const cpuSecondsPer1000 = successful > 0 ? Number(((cpuSeconds * 1000) / successful).toFixed(3)) : 0;
  return {
    rate,
    ok,
    successful,
    failed,
    retransmissions,
    seconds,
    cpuSeconds: Number(cpuSeconds.toFixed(2)),
    cpuSecondsPer1000,
  };
}

/** Doubles the rate until a trial is not clean, then bisects; returns every trial. */
async function findMaxRate(
  target: Omit<Target, 'idleCpuPerSecond'>,
  csv: string,
  dir: string,
): Promise<{ trials: Trial[]; idleCpuPerSecond: number }> {
  const trials: Trial[] = [];
  const idleStart = target.cpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const measured = { ...target, idleCpuPerSecond: (target.cpuSeconds() - idleStart) / IDLE_SECONDS };
  console.log(`${target.name}: idle CPU ${measured.idleCpuPerSecond.toFixed(3)} s per second`);
  // Warm-up, not counted: a Node process compiles its hot paths during the first thousands of
  // requests, and a cold start would show as retransmissions in the first trial only.
  if (WARMUP_CALLS > 0) {
    const warmup = await runTrial(measured, csv, 200, dir, { calls: WARMUP_CALLS });
    console.log(
      `${target.name}: warm-up ${WARMUP_CALLS} calls at 200 cps, retrans ${warmup.retransmissions}`,
    );
  }
  const run = async (rate: number): Promise<Trial> => {
    const trial = await runTrial(measured, csv, rate, dir);
    trials.push(trial);
    console.log(
      `${target.name}: ${rate} cps -> ${trial.ok ? 'clean' : 'NOT clean'} (ok ${trial.successful}, failed ${trial.failed}, retrans ${trial.retransmissions}, ${trial.seconds.toFixed(1)} s, CPU ${trial.cpuSeconds.toFixed(1)} s = ${trial.cpuSecondsPer1000.toFixed(2)} s per 1000, load ${loadavg()[0]!.toFixed(1)})`,
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
  return { trials, idleCpuPerSecond: measured.idleCpuPerSecond };
}

const best = (trials: Trial[]): number => Math.max(0, ...trials.filter((t) => t.ok).map((t) => t.rate));

/** CPU seconds per 1000 registrations: the median over the clean trials (all trials if none was clean). */
function cpuPer1000(trials: Trial[]): number | null {
  const clean = trials.filter((t) => t.ok);
  const values = (clean.length > 0 ? clean : trials).map((t) => t.cpuSecondsPer1000).sort((a, b) => a - b);
  if (values.length === 0) return null;
  return values[Math.floor((values.length - 1) / 2)]!;
}

async function benchSipCore(dir: string, csv: string): Promise<Result> {
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
    return LAYOUT === 'split'
      ? await benchSplit(url.toString(), csv, dir)
      : await benchOneProcess(db, csv, dir);
  } finally {
    await db.close();
    await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminClient.end();
  }
}

/** Engine and sip-core in this process, as the all-in-one launcher runs them. */
async function benchOneProcess(db: Database, csv: string, dir: string): Promise<Result> {
  const secret = randomBytes(16).toString('hex');
  const engine = await startEngine(
    {
      sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: secret,
    },
    { logger: log },
  );
  const sipCore = await startSipCore(benchSipCoreOptions(engine.adminAddress.port, secret), {
    prisma: db.prisma,
    db,
    logger: log,
  });
  const profiler = PROFILE_DIR ? new Session() : undefined;
  try {
    return await findMaxRate(
      {
        name: 'sip-core',
        remote: `127.0.0.1:${engine.listeners[0]!.port}`,
        cpuSeconds: () => {
          const { user, system } = process.cpuUsage();
          return (user + system) / 1e6;
        },
        async beforeTrial() {
          if (!profiler) return;
          profiler.connect();
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.start');
        },
        async afterTrial(rate) {
          if (!profiler || !PROFILE_DIR) return;
          const { profile } = await profiler.post('Profiler.stop');
          profiler.disconnect();
          mkdirSync(PROFILE_DIR, { recursive: true });
          writeFileSync(join(PROFILE_DIR, `sip-core-${rate}.cpuprofile`), JSON.stringify(profile));
        },
      },
      csv,
      dir,
    );
  } finally {
    await sipCore.close();
    await engine.close();
  }
}

/**
 * The standalone engine main and sip-core in a second process: two Node event loops, so the engine
 * and the application can use both cores. CPU time is read from /proc for both processes.
 */
async function benchSplit(databaseUrl: string, csv: string, dir: string): Promise<Result> {
  const secret = randomBytes(16).toString('hex');
  const sipPort = await freeUdpPort();
  const adminPort = await freeTcpPort();
  const profileArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const engine = spawn(
    process.execPath,
    [...profileArgs, '--import', 'tsx', join(HERE, '..', '..', 'engine', 'src', 'main.ts')],
    {
      cwd: join(HERE, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        SIP_LISTEN: `udp:127.0.0.1:${sipPort}`,
        ENGINE_ADMIN: `127.0.0.1:${adminPort}`,
        ENGINE_SECRET: secret,
        LOG_LEVEL: 'warn',
      },
    },
  );
  const sipCore = spawn(
    process.execPath,
    [...profileArgs, '--import', 'tsx', join(HERE, 'sip-core-process.ts')],
    {
      cwd: join(HERE, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BENCH_DATABASE_URL: databaseUrl,
        BENCH_ENGINE_PORT: String(adminPort),
        BENCH_ENGINE_SECRET: secret,
      },
    },
  );
  try {
    await waitForTcp(adminPort);
    await waitForLine(sipCore, 'ready');
    return await findMaxRate(
      {
        name: 'sip-core (split)',
        remote: `127.0.0.1:${sipPort}`,
        cpuSeconds: () => procCpuSeconds(engine.pid!) + procCpuSeconds(sipCore.pid!),
      },
      csv,
      dir,
    );
  } finally {
    for (const child of [sipCore, engine]) {
      child.kill('SIGTERM');
      await new Promise((resolve) => {
        const guard = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(undefined);
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(guard);
          resolve(undefined);
        });
      });
    }
  }
}

/** User + system CPU seconds of one process from /proc/<pid>/stat (0 once it is gone). */
function procCpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields after the command name (which may contain spaces): state, ppid, ... utime is field 14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Pids whose parent is `pid` (Kamailio's worker processes). */
function childPids(pid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Bounded wait until something accepts TCP connections on 127.0.0.1:port. */
async function waitForTcp(port: number): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** Bounded wait for a line on a child's stdout (then the rest of its output is discarded). */
function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const guard = setTimeout(() => reject(new Error(`no "${line}" within 120 s`)), 120_000);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before "${line}"`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-1000);
      if (seen.split('\n').includes(line)) {
        clearTimeout(guard);
        resolve();
      }
    });
  });
}

async function benchKamailio(dir: string, csv: string): Promise<Result> {
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
    const workers = childPids(kamailio.pid!);
    return await findMaxRate(
      {
        name: 'kamailio',
        remote: `127.0.0.1:${port}`,
        cpuSeconds: () => [kamailio.pid!, ...workers].reduce((sum, pid) => sum + procCpuSeconds(pid), 0),
      },
      csv,
      dir,
    );
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
    const none: Result = { trials: [], idleCpuPerSecond: 0 };
    const sipCoreResult = TARGETS.includes('sip-core') ? await benchSipCore(dir, csv) : none;
    const kamailioResult = TARGETS.includes('kamailio') ? await benchKamailio(dir, csv) : none;
    const sipCore = sipCoreResult.trials;
    const kamailio = kamailioResult.trials;
    const ours = best(sipCore);
    const reference = best(kamailio);
    const ourCpu = cpuPer1000(sipCore);
    const referenceCpu = cpuPer1000(kamailio);
    const report = {
      users: USERS,
      layout: LAYOUT,
      loadAverageAtEnd: loadavg(),
      drainSeconds: DRAIN_SECONDS,
      sipCore: {
        maxCleanRate: ours,
        cpuSecondsPer1000: ourCpu,
        idleCpuPerSecond: sipCoreResult.idleCpuPerSecond,
        trials: sipCore,
      },
      kamailio: {
        maxCleanRate: reference,
        cpuSecondsPer1000: referenceCpu,
        idleCpuPerSecond: kamailioResult.idleCpuPerSecond,
        trials: kamailio,
      },
      ratio: reference > 0 ? Number((ours / reference).toFixed(3)) : null,
      /** Kamailio's CPU per registration over ours: the rate ratio an idle machine would show. */
      cpuRatio: ourCpu && referenceCpu ? Number((referenceCpu / ourCpu).toFixed(3)) : null,
    };
    const resultsDir = join(HERE, '..', '..', '..', 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'registrar.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`sip-core: ${ours} cps clean; kamailio: ${reference} cps clean; ratio ${report.ratio}`);
    console.log(
      `CPU s per 1000 registrations: sip-core ${ourCpu}, kamailio ${referenceCpu}; ratio ${report.cpuRatio}`,
    );
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
