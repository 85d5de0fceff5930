/**
 * What the sip-core benchmarks share: sipp runs with their `-trace_stat` counters, the rate search,
 * a throw-away PostgreSQL database, Kamailio as the reference, and the load average to report.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Database, openDatabase } from '@switchboard/db';
import pg from 'pg';
import { pino } from 'pino';

export const HERE = fileURLToPath(new URL('.', import.meta.url));
export const RESULTS_DIR = join(HERE, '..', '..', '..', 'bench', 'results');
const DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test';
export const log = pino({ level: process.env.BENCH_LOG ?? 'warn' });

export interface Trial {
  rate: number;
  ok: boolean;
  successful: number;
  failed: number;
  retransmissions: number;
  seconds: number;
  /** 1-minute load average when the trial ended. */
  load: number;
  /** Where the failures and retransmissions were, when a trial has more than one sipp. */
  detail?: string;
}

export interface RateSearch {
  start: number;
  max: number;
  /** Bisection steps between the last clean rate and the first failing one. */
  refineSteps: number;
}

/** The search bounds from BENCH_START_RATE / BENCH_MAX_RATE / BENCH_REFINE_STEPS, else `defaults`. */
export function rateSearch(defaults: RateSearch): RateSearch {
  return {
    start: Number(process.env.BENCH_START_RATE ?? defaults.start),
    max: Number(process.env.BENCH_MAX_RATE ?? defaults.max),
    refineSteps: Number(process.env.BENCH_REFINE_STEPS ?? defaults.refineSteps),
  };
}

export const loadAverage = (): number => Number(loadavg()[0]!.toFixed(2));

/** An even UDP port in 17000-17999 free on 127.0.0.1 right now, with the next one free too (sipp's control port). */
export async function freeUdpPort(): Promise<number> {
  const free = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 17000 + 2 * Math.floor(Math.random() * 499);
    if ((await free(port)) && (await free(port + 1))) return port;
  }
  throw new Error('no free port in 17000-17999');
}

export interface SippStats {
  code: number | null;
  successful: number;
  failed: number;
  retransmissions: number;
  seconds: number;
}

export interface SippProcess {
  done: Promise<SippStats>;
  stop(): void;
}

/**
 * sipp with a scenario from bench/, bounded by `-m` and `-timeout`, control socket on loopback;
 * its final `-trace_stat` counters are read when it exits.
 */
export function runSipp(
  args: string[],
  port: number,
  dir: string,
  limitS: number,
  remote?: string,
): SippProcess {
  const statFile = join(dir, `stat-${port}-${Date.now()}-${randomBytes(2).toString('hex')}.csv`);
  const started = Date.now();
  const child: ChildProcess = spawn(
    'sipp',
    [
      ...args,
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-ci',
      '127.0.0.1',
      '-cp',
      String(port + 1),
      '-nostdin',
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
      ...(remote ? [remote] : []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const done = new Promise<SippStats>((resolve) => {
    child.on('exit', (code) => {
      const seconds = (Date.now() - started) / 1000;
      if (!existsSync(statFile)) {
        console.error(`sipp wrote no statistics (exit ${code}): ${stderr}`);
        resolve({ code, successful: 0, failed: Number.NaN, retransmissions: Number.NaN, seconds });
        return;
      }
      const rows = readFileSync(statFile, 'utf8').trim().split('\n');
      const header = rows[0]!.split(';');
      const last = rows[rows.length - 1]!.split(';');
      const column = (name: string): number => Number(last[header.indexOf(name)] ?? Number.NaN);
      resolve({
        code,
        successful: column('SuccessfulCall(C)'),
        failed: column('FailedCall(C)'),
        retransmissions: column('Retransmissions(C)'),
        seconds,
      });
    });
  });
  return {
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Doubles the rate until a trial is not clean, then bisects; returns every trial. */
export async function findMaxRate(
  name: string,
  search: RateSearch,
  runTrial: (rate: number) => Promise<Trial>,
): Promise<Trial[]> {
  const trials: Trial[] = [];
  const run = async (rate: number): Promise<Trial> => {
    const trial = await runTrial(rate);
    trials.push(trial);
    console.log(
      `${name}: ${rate} cps -> ${trial.ok ? 'clean' : 'NOT clean'} (ok ${trial.successful}, failed ${trial.failed}, retrans ${trial.retransmissions}, ${trial.seconds.toFixed(1)} s, load ${trial.load})${trial.detail ? ` [${trial.detail}]` : ''}`,
    );
    return trial;
  };
  let good = 0;
  let bad = 0;
  for (let rate = search.start; rate <= search.max; rate *= 2) {
    if ((await run(rate)).ok) good = rate;
    else {
      bad = rate;
      break;
    }
  }
  // Bisect only between a clean and a failing rate: below the start rate runs get long, and a
  // target that is not clean there is reported as such.
  for (let step = 0; good > 0 && bad > 0 && step < search.refineSteps && bad - good > 1; step++) {
    const rate = Math.round((good + bad) / 2);
    if ((await run(rate)).ok) good = rate;
    else bad = rate;
  }
  return trials;
}

export const best = (trials: Trial[]): number =>
  Math.max(0, ...trials.filter((t) => t.ok).map((t) => t.rate));

/** A fresh PostgreSQL database, migrated, for one benchmark; `drop` removes it. */
export async function createBenchDatabase(dir: string): Promise<{ db: Database; drop(): Promise<void> }> {
  const name = `sipcore_bench_${randomBytes(4).toString('hex')}`;
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const adminClient = new pg.Client({ connectionString: admin.toString() });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  // Dropping the database ends the pool's idle connections: not worth a warning each.
  const db = await openDatabase({
    databaseUrl: url.toString(),
    dataDir: dir,
    log: log.child({}, { level: 'error' }),
  });
  const drop = async (): Promise<void> => {
    await db.close();
    await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminClient.end();
  };
  try {
    await db.migrate();
  } catch (error) {
    await drop();
    throw error;
  }
  return { db, drop };
}

/** Installs Debian's kamailio when it is missing (the benchmark's reference; needs root and apt). */
export function ensureKamailio(): void {
  try {
    execFileSync('kamailio', ['-v'], { stdio: 'ignore' });
    return;
  } catch {
    console.log('kamailio not found: installing the Debian package');
  }
  execFileSync('apt-get', ['install', '-y', 'kamailio'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

export interface RunningKamailio {
  port: number;
  stop(): Promise<void>;
}

/**
 * Kamailio with bench/<config>, `@LISTEN@` and the other `substitutions` replaced, 2 children, shared
 * memory 256 MB; resolves once it answers OPTIONS.
 */
export async function startKamailio(
  config: string,
  substitutions: Record<string, string>,
  dir: string,
): Promise<RunningKamailio> {
  ensureKamailio();
  const port = await freeUdpPort();
  let cfg = readFileSync(join(HERE, config), 'utf8').replaceAll('@LISTEN@', `127.0.0.1:${port}`);
  for (const [key, value] of Object.entries(substitutions)) cfg = cfg.replaceAll(`@${key}@`, value);
  const file = join(dir, config);
  writeFileSync(file, cfg);
  const runDir = join(dir, `kamailio-run-${port}`);
  mkdirSync(runDir);
  // A process group of its own: Kamailio's children outlive a main process killed alone.
  const kamailio = spawn(
    'kamailio',
    ['-f', file, '-DD', '-E', '-w', dir, '-Y', runDir, '-P', join(runDir, 'pid'), '-m', '256', '-M', '32'],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  kamailio.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-5000);
  });
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      if (kamailio.pid !== undefined) process.kill(-kamailio.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  // Even when the benchmark dies on an exception, Kamailio goes with it.
  const onExit = (): void => signalGroup('SIGKILL');
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    signalGroup('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    signalGroup('SIGKILL');
    process.removeListener('exit', onExit);
  };
  try {
    await waitForOptions(port, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
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
