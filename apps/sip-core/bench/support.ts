/**
 * What the sip-core benchmarks share: sipp runs with their `-trace_stat` counters, the rate search,
 * a throw-away PostgreSQL database, engine + sip-core in one or two processes, Kamailio as the
 * reference, the CPU time of the system under test per trial, CPU profiles, and the load average.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Database, openDatabase, sipHa1 } from '@switchboard/db';
import { DEFAULT_LIMITS, startEngine } from '@switchboard/engine';
import { optionsRequest } from '@switchboard/testkit';
import pg from 'pg';
import { pino } from 'pino';
import type { SipCoreOptions } from '../src/config.ts';
import { type SipCoreDeps, startSipCore } from '../src/start.ts';

export const HERE = fileURLToPath(new URL('.', import.meta.url));
export const RESULTS_DIR = join(HERE, '..', '..', '..', 'bench', 'results');
const BUNDLER = join(HERE, '..', '..', '..', 'scripts', 'bundle.mjs');
const DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test';
export const log = pino({ level: process.env.BENCH_LOG ?? 'warn' });
/** `one`: engine and sip-core in one process (the all-in-one launcher); `split`: two processes. */
/** The SIP domain every bench's subscribers belong to (and Kamailio's configurations serve). */
export const DOMAIN = 'bench.test';
export const LAYOUT = process.env.BENCH_LAYOUT === 'split' ? 'split' : 'one';
/** In one process: `link` (default, as the launcher) or `socket` (the admin socket, as before the link). */
export const LINK = process.env.BENCH_LINK === 'socket' ? 'socket' : 'link';
/**
 * One process: the engine hands REGISTER, and new INVITEs without credentials, straight to sip-core, as
 * the all-in-one launcher does (sip/local-engine.ts); BENCH_LOCAL=off (or its earlier name
 * BENCH_LOCAL_REGISTER=off) sends them over the link or socket like every method.
 */
export const LOCAL_HANDLERS = localHandlersWanted();

export function localHandlersWanted(): boolean {
  return process.env.BENCH_LOCAL !== 'off' && process.env.BENCH_LOCAL_REGISTER !== 'off';
}
/**
 * How the benches' child processes run (the split layout, the scale bench): `bundle` (default)
 * compiled by scripts/bundle.mjs as `pnpm start` runs the platform, on plain Node; `sources`: the
 * TypeScript under tsx, as the tests and the service units run it.
 */
export const PROGRAM = process.env.BENCH_PROGRAM === 'sources' ? 'sources' : 'bundle';
/** When set, V8 CPU profiles of sip-core go here: one per trial (one process) or per process (split). */
const PROFILE_DIR = process.env.BENCH_PROFILE;
/**
 * `allocations`: the in-process profile is V8's sampling heap profile of everything allocated during the
 * trial, garbage included (where the collector's work comes from), instead of the CPU profile;
 * `retained`: only what is still alive when the trial ends (what the scavenger copies and promotes).
 */
const PROFILE_KIND = ['allocations', 'retained'].includes(process.env.BENCH_PROFILE_KIND ?? '')
  ? (process.env.BENCH_PROFILE_KIND as 'allocations' | 'retained')
  : 'cpu';
/**
 * Microseconds between two samples of the CPU profile (BENCH_PROFILE_INTERVAL_US; V8's default 1000):
 * a 5-s trial of a few microseconds per message needs a finer one to tell small functions apart.
 */
const PROFILE_INTERVAL_US = Number(process.env.BENCH_PROFILE_INTERVAL_US ?? 1000);
/** Uncounted calls before the first trial (BENCH_WARMUP_CALLS). */
export const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 2000);
/** Seconds of no traffic over which a target's idle CPU use is measured. */
const IDLE_SECONDS = 10;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

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
  /** CPU time (user + system) of the target's processes for the trial and its drain, idle use subtracted. */
  cpuSeconds?: number;
  /** The same per 1000 successful calls. */
  cpuSecondsPer1000?: number;
  /**
   * How late the target's event loop ran timers during the traffic (ms, 99th percentile and
   * longest), for targets in this process: an answer waiting longer than T1 (500 ms) is retransmitted.
   */
  loopDelayMs?: { p99: number; max: number };
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
    const cpu =
      trial.cpuSecondsPer1000 === undefined
        ? ''
        : `, CPU ${trial.cpuSeconds} s = ${trial.cpuSecondsPer1000} s per 1000`;
    const loop = trial.loopDelayMs
      ? `, loop delay p99 ${trial.loopDelayMs.p99} ms, max ${trial.loopDelayMs.max} ms`
      : '';
    console.log(
      `${name}: ${rate} cps -> ${trial.ok ? 'clean' : 'NOT clean'} (ok ${trial.successful}, failed ${trial.failed}, retrans ${trial.retransmissions}, ${trial.seconds.toFixed(1)} s${cpu}${loop}, load ${trial.load})${trial.detail ? ` [${trial.detail}]` : ''}`,
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

/** CPU seconds per 1000 calls: the median over the clean trials (all trials if none was clean). */
function cpuPer1000(trials: Trial[]): number | null {
  const clean = trials.filter((t) => t.ok);
  const values = (clean.length > 0 ? clean : trials)
    .map((t) => t.cpuSecondsPer1000)
    .filter((v): v is number => v !== undefined)
    .sort((a, b) => a - b);
  if (values.length === 0) return null;
  return values[Math.floor((values.length - 1) / 2)]!;
}

/** sip-core's CPU per 1000 over Kamailio's at one rate both ran clean. */
export interface CpuAtRate {
  rate: number;
  sipCore: number;
  kamailio: number;
  ratio: number;
}

/** CPU per operation depends on the rate (batching), so the two sides are compared rate by rate. */
function cpuAtEqualRates(ours: Trial[], reference: Trial[]): CpuAtRate[] {
  const theirs = new Map(reference.filter((t) => t.ok).map((t) => [t.rate, t.cpuSecondsPer1000]));
  const rows: CpuAtRate[] = [];
  for (const trial of ours) {
    const kamailio = theirs.get(trial.rate);
    const sipCore = trial.cpuSecondsPer1000;
    if (!trial.ok || !kamailio || !sipCore) continue;
    rows.push({ rate: trial.rate, sipCore, kamailio, ratio: Number((sipCore / kamailio).toFixed(2)) });
  }
  return rows.sort((a, b) => a.rate - b.rate);
}

/** The issue's targets for a bench: sip-core's clean rate at least `cleanRate` × Kamailio's, CPU at most `cpu` ×. */
export interface BenchTargets {
  cleanRate: number;
  cpu: number;
}

/**
 * Writes bench/results/<name>.json: `fields`, then per side (sip-core, Kamailio, any `others`) its best
 * clean rate, its CPU per 1000 calls and everything in its result, then the ratios: clean rates
 * sip-core / Kamailio; `cpuRatio` Kamailio's median CPU per call over ours (the rate ratio an idle machine
 * would show); `cpuAtEqualRates` sip-core's CPU over Kamailio's at each rate both ran clean. Prints the
 * summary and, given `targets`, whether this run meets them (CPU judged at the highest rate both ran clean).
 */
export function writeReport<T extends { trials: Trial[] }>(
  name: string,
  fields: Record<string, unknown>,
  sipCore: T,
  kamailio: T,
  extra: { others?: Record<string, T>; targets?: BenchTargets } = {},
): void {
  const others = extra.others ?? {};
  const ours = best(sipCore.trials);
  const reference = best(kamailio.trials);
  const ourCpu = cpuPer1000(sipCore.trials);
  const referenceCpu = cpuPer1000(kamailio.trials);
  const atEqualRates = cpuAtEqualRates(sipCore.trials, kamailio.trials);
  const report = {
    ...fields,
    loadAverageAtEnd: loadavg(),
    sipCore: { maxCleanRate: ours, cpuSecondsPer1000: ourCpu, ...sipCore },
    kamailio: { maxCleanRate: reference, cpuSecondsPer1000: referenceCpu, ...kamailio },
    ...Object.fromEntries(
      Object.entries(others).map(([key, result]) => [
        key,
        { maxCleanRate: best(result.trials), cpuSecondsPer1000: cpuPer1000(result.trials), ...result },
      ]),
    ),
    ratio: reference > 0 ? Number((ours / reference).toFixed(3)) : null,
    cpuRatio: ourCpu && referenceCpu ? Number((referenceCpu / ourCpu).toFixed(3)) : null,
    cpuAtEqualRates: atEqualRates,
    targets: extra.targets ?? null,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`sip-core: ${ours} cps clean; kamailio: ${reference} cps clean; ratio ${report.ratio}`);
  console.log(
    `CPU s per 1000 calls (median of clean trials): sip-core ${ourCpu}, kamailio ${referenceCpu}; kamailio / sip-core ${report.cpuRatio}`,
  );
  if (atEqualRates.length > 0)
    console.log(
      `CPU per 1000, sip-core / kamailio at the same rate: ${atEqualRates.map((r) => `${r.rate}/s ${r.ratio}x`).join(', ')}`,
    );
  for (const [key, result] of Object.entries(others))
    console.log(
      `${key}: ${best(result.trials)} cps clean, CPU s per 1000 calls ${cpuPer1000(result.trials)}`,
    );
  if (extra.targets)
    printTargets(extra.targets, report.ratio, atEqualRates.at(-1), kamailio.trials.length > 0);
}

function printTargets(
  targets: BenchTargets,
  rateRatio: number | null,
  cpu: CpuAtRate | undefined,
  kamailioRan: boolean,
): void {
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const rate =
    rateRatio !== null
      ? `${rateRatio}x (${verdict(rateRatio >= targets.cleanRate)})`
      : kamailioRan
        ? 'no rate Kamailio ran clean'
        : 'Kamailio not run';
  const cpuText =
    cpu === undefined
      ? 'no rate clean on both sides'
      : `${cpu.ratio}x at ${cpu.rate}/s (${verdict(cpu.ratio <= targets.cpu)})`;
  console.log(
    `targets: clean rate >= ${targets.cleanRate}x kamailio's: ${rate}; CPU per operation <= ${targets.cpu}x: ${cpuText}`,
  );
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

/** `pid` and every live descendant (Kamailio's workers, a tsx loader's node). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** User + system CPU seconds so far of the process trees rooted at `pids`. */
export function treeCpuSeconds(pids: number[]): number {
  let sum = 0;
  for (const root of pids) for (const pid of processTree(root)) sum += procCpuSeconds(pid);
  return sum;
}

/** What a trial's CPU is charged to: the target's processes, and a per-trial profile when asked. */
export interface CpuMeter {
  name: string;
  cpuSeconds(): number;
  /** Starts a CPU profile of one trial when BENCH_PROFILE is set (in-process targets only). */
  startProfile?(label: string): Promise<() => Promise<void>>;
  /** The target runs in this process: its event loop's delays are measured during each trial. */
  inProcess?: boolean;
}

/** CPU use per second with no traffic, measured over IDLE_SECONDS before the first trial. */
export async function idleCpuPerSecond(meter: CpuMeter): Promise<number> {
  const start = meter.cpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const idle = (meter.cpuSeconds() - start) / IDLE_SECONDS;
  console.log(`${meter.name}: idle CPU ${idle.toFixed(3)} s per second`);
  return idle;
}

/**
 * Runs one trial and charges it the target's CPU time from its start to `drainSeconds` after its
 * end (work deferred past the last answer belongs to the trial too: the engine's server
 * transactions linger 32 s for retransmissions, Timer J; bindings are written behind), minus the
 * idle use over the same time.
 */
export async function withCpu(
  meter: CpuMeter,
  idlePerSecond: number,
  drainSeconds: number,
  label: string,
  run: () => Promise<Trial>,
): Promise<Trial> {
  const stopProfile = await meter.startProfile?.(label);
  const before = meter.cpuSeconds();
  const started = Date.now();
  const loop = meter.inProcess ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
  loop?.enable();
  const trial = await run();
  loop?.disable();
  await new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000));
  const cpuSeconds = meter.cpuSeconds() - before - (idlePerSecond * (Date.now() - started)) / 1000;
  await stopProfile?.();
  return {
    ...trial,
    cpuSeconds: Number(cpuSeconds.toFixed(2)),
    cpuSecondsPer1000: trial.successful > 0 ? Number(((cpuSeconds * 1000) / trial.successful).toFixed(3)) : 0,
    ...(loop
      ? { loopDelayMs: { p99: Math.round(loop.percentile(99) / 1e6), max: Math.round(loop.max / 1e6) } }
      : {}),
  };
}

/**
 * WARMUP_CALLS uncounted calls before the first trial: a Node process compiles its hot paths during
 * the first thousands of requests, and a cold start would show as retransmissions in the first
 * trial only.
 */
export async function warmUp(
  name: string,
  rate: number,
  run: (calls: number) => Promise<Trial>,
): Promise<void> {
  if (WARMUP_CALLS <= 0) return;
  const trial = await run(WARMUP_CALLS);
  console.log(
    `${name}: warm-up ${WARMUP_CALLS} calls at ${rate} cps, failed ${trial.failed}, retrans ${trial.retransmissions}`,
  );
}

/**
 * One trial of a one-sipp bench: `count` runs of `scenario` (a path) with the fields of `csv` at `rate`
 * per second towards `remote`, from `port` (default: a free one). Clean when every run succeeded and
 * nothing was retransmitted.
 */
export async function sippTrial(o: {
  scenario: string;
  csv: string;
  rate: number;
  count: number;
  dir: string;
  remote: string;
  port?: number | undefined;
}): Promise<Trial> {
  const port = o.port ?? (await freeUdpPort());
  const args = ['-sf', o.scenario, '-inf', o.csv, '-m', String(o.count), '-r', String(o.rate), '-rp', '1000'];
  const stats = await runSipp(args, port, o.dir, Math.ceil(o.count / o.rate) + 60, o.remote).done;
  return {
    rate: o.rate,
    ok: stats.code === 0 && stats.failed === 0 && stats.retransmissions === 0 && stats.successful === o.count,
    successful: stats.successful,
    failed: stats.failed,
    retransmissions: stats.retransmissions,
    seconds: stats.seconds,
    load: loadAverage(),
  };
}

/** What a bench measured of one target: its trials, and its CPU use with no traffic. */
export interface RateResult {
  trials: Trial[];
  idleCpuPerSecond: number;
}

/**
 * What every bench does with a target: its idle CPU, the uncounted warm-up at `warmupRate`, then the
 * rate search, each trial charged the target's CPU until `drainSeconds` after it (profiles labelled
 * `<target>-<labelPart><rate>`). `trial(rate, calls?)` runs one trial (calls: the warm-up's count).
 */
export async function measureRates(
  target: CpuMeter,
  plan: { warmupRate: number; search: RateSearch; drainSeconds: number; labelPart?: string },
  trial: (rate: number, calls?: number) => Promise<Trial>,
): Promise<RateResult> {
  const idle = await idleCpuPerSecond(target);
  await warmUp(target.name, plan.warmupRate, (calls) => trial(plan.warmupRate, calls));
  const trials = await findMaxRate(target.name, plan.search, (rate) =>
    withCpu(target, idle, plan.drainSeconds, `${target.name}-${plan.labelPart ?? ''}${rate}`, () =>
      trial(rate),
    ),
  );
  return { trials, idleCpuPerSecond: idle };
}

/**
 * A V8 profile of this process per trial: BENCH_PROFILE/<label>.cpuprofile, or with
 * BENCH_PROFILE_KIND=allocations or retained <label>.heapprofile (an allocation sampled every 32 KB on
 * average; `retained` keeps only those still alive at the end).
 */
function inProcessProfiler(): CpuMeter['startProfile'] {
  const dir = PROFILE_DIR;
  if (!dir) return undefined;
  const session = new Session();
  if (PROFILE_KIND !== 'cpu') {
    const collectedToo = PROFILE_KIND === 'allocations';
    return async (label) => {
      session.connect();
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 32_768,
        includeObjectsCollectedByMajorGC: collectedToo,
        includeObjectsCollectedByMinorGC: collectedToo,
      });
      return async () => {
        const { profile } = await session.post('HeapProfiler.stopSampling');
        session.disconnect();
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${label}.heapprofile`), JSON.stringify(profile));
      };
    };
  }
  return async (label) => {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_US });
    await session.post('Profiler.start');
    return async () => {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${label}.cpuprofile`), JSON.stringify(profile));
    };
  };
}

/** Engine + sip-core under test: where sipp sends, its CPU meter, and how to stop it. */
export interface RunningSipCore extends CpuMeter {
  remote: string;
  /** The processes of the split layout (their memory is read from /proc). */
  pids?: { engine: number; sipCore: number };
  stop(): Promise<void>;
}

/**
 * Engine + sip-core in BENCH_LAYOUT: `one` runs both in this process, as the all-in-one launcher
 * does (CPU: `process.cpuUsage`); `split` runs the standalone engine main and
 * bench/sip-core-process.ts, two event loops that can use a core each, as in production (CPU: /proc
 * of both process trees). `extraDeps` (media relay, call settings) cannot cross into the split
 * process: a bench that needs them runs in one process only.
 */
export async function startSipCoreUnderTest(
  bench: { db: Database; url: string },
  options: (enginePort: number, secret: string) => SipCoreOptions,
  extraDeps: Partial<SipCoreDeps> = {},
): Promise<RunningSipCore> {
  if (LAYOUT === 'split') {
    if (Object.keys(extraDeps).length > 0) throw new Error('this benchmark runs in one process only');
    return startSplit(bench.url, options);
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
  try {
    const sipCore = await startSipCore(options(engine.adminAddress.port, secret), {
      prisma: bench.db.prisma,
      db: bench.db,
      logger: log,
      // As the all-in-one launcher does: the engine in this process, no socket between them.
      ...(LINK === 'socket' ? {} : { engineLink: () => engine.linkInProcess() }),
      ...(LOCAL_HANDLERS ? { localEngine: engine } : {}),
      ...extraDeps,
    });
    return {
      name: 'sip-core',
      remote: `127.0.0.1:${engine.listeners[0]!.port}`,
      cpuSeconds: () => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1e6;
      },
      startProfile: inProcessProfiler(),
      inProcess: true,
      stop: async () => {
        await sipCore.close();
        await engine.close();
      },
    };
  } catch (error) {
    await engine.close();
    throw error;
  }
}

export async function startSplit(
  databaseUrl: string,
  options: (enginePort: number, secret: string) => SipCoreOptions,
  readyWithinS = 120,
  /** `one`: engine and sip-core in one child process, linked as in the all-in-one launcher. */
  processes: 'two' | 'one' = 'two',
): Promise<RunningSipCore> {
  if (processes === 'one') return startOneChild(databaseUrl, options, readyWithinS);
  const secret = randomBytes(16).toString('hex');
  const sipPort = await freeUdpPort();
  const adminPort = await freeTcpPort();
  // The split processes can only be profiled for their whole life.
  const profileArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const spawnNode = (script: string, env: Record<string, string>): ChildProcess =>
    passOutput(
      spawn(process.execPath, [...profileArgs, ...NODE_ARGS, ...programArgs(script)], {
        cwd: join(HERE, '..'),
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...env },
      }),
    );
  const engine = spawnNode(join(HERE, '..', '..', 'engine', 'src', 'main.ts'), {
    SIP_LISTEN: `udp:127.0.0.1:${sipPort}`,
    ENGINE_ADMIN: `127.0.0.1:${adminPort}`,
    ENGINE_SECRET: secret,
    LOG_LEVEL: 'warn',
  });
  const sipCore = spawnNode(join(HERE, 'sip-core-process.ts'), {
    BENCH_DATABASE_URL: databaseUrl,
    BENCH_SIP_CORE_OPTIONS: JSON.stringify(options(adminPort, secret)),
  });
  const stop = async (): Promise<void> => {
    for (const child of [sipCore, engine]) await stopChild(child);
  };
  try {
    await waitForTcp(adminPort);
    await waitForLine(sipCore, 'ready', readyWithinS);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: 'sip-core (split)',
    remote: `127.0.0.1:${sipPort}`,
    pids: { engine: engine.pid!, sipCore: sipCore.pid! },
    cpuSeconds: () => treeCpuSeconds([engine.pid!, sipCore.pid!]),
    stop,
  };
}

/** Engine + sip-core in one child process (its memory read from /proc, as the split processes'). */
async function startOneChild(
  databaseUrl: string,
  options: (enginePort: number, secret: string) => SipCoreOptions,
  readyWithinS: number,
): Promise<RunningSipCore> {
  const secret = randomBytes(16).toString('hex');
  const sipPort = await freeUdpPort();
  const child = passOutput(
    spawn(process.execPath, [...NODE_ARGS, ...programArgs(join(HERE, 'sip-core-process.ts'))], {
      cwd: join(HERE, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BENCH_DATABASE_URL: databaseUrl,
        BENCH_ENGINE_SIP_PORT: String(sipPort),
        // The admin port is the engine's own choice; sip-core reaches it through the link.
        BENCH_SIP_CORE_OPTIONS: JSON.stringify(options(9, secret)),
      },
    }),
  );
  const stop = (): Promise<void> => stopChild(child);
  try {
    await waitForLine(child, 'ready', readyWithinS);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: 'sip-core (engine in process)',
    remote: `127.0.0.1:${sipPort}`,
    pids: { engine: child.pid!, sipCore: child.pid! },
    cpuSeconds: () => treeCpuSeconds([child.pid!]),
    stop,
  };
}

/**
 * BENCH_NODE_ARGS: Node and V8 flags for the sip-core and engine processes (`--trace-gc`, a heap
 * setting to compare); BENCH_CHILD_OUTPUT=1 passes their standard output on (where the trace goes).
 */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const CHILD_OUTPUT = process.env.BENCH_CHILD_OUTPUT === '1';

/** The child's standard output passed on (BENCH_CHILD_OUTPUT), read either way so it never blocks. */
function passOutput(child: ChildProcess): ChildProcess {
  child.stdout?.on('data', (chunk: Buffer) => {
    if (CHILD_OUTPUT) process.stdout.write(chunk);
  });
  return child;
}

const bundled = new Map<string, string>();

/** Node's arguments that run the program `script` (a .ts entry) as PROGRAM says; compiled once per run. */
function programArgs(script: string): string[] {
  if (PROGRAM === 'sources') return ['--import', 'tsx', script];
  let out = bundled.get(script);
  if (!out) {
    out = join(
      RESULTS_DIR,
      'programs',
      `${basename(dirname(dirname(script)))}-${basename(script, '.ts')}.mjs`,
    );
    const built = spawnSync(process.execPath, [BUNDLER, script, out], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`bundling ${script} failed: ${built.stderr}`);
    bundled.set(script, out);
  }
  return [out];
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the child is gone. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
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
function waitForLine(child: ChildProcess, line: string, withinS: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const guard = setTimeout(() => reject(new Error(`no "${line}" within ${withinS} s`)), withinS * 1000);
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

/** A fresh PostgreSQL database, migrated, for one benchmark; `drop` removes it. */
/**
 * A customer and `domain` in the bench database, and `users` as its subscribers with their HA1 values
 * (inserted 1000 at a time).
 */
export async function provisionSubscribers(
  db: Database,
  domain: string,
  users: ReadonlyArray<{ username: string; password: string }>,
): Promise<void> {
  const customer = await db.prisma.customer.create({ data: { name: 'bench' } });
  const { id: domainId } = await db.prisma.domain.create({ data: { name: domain } });
  for (let from = 0; from < users.length; from += 1000) {
    await db.prisma.subscriber.createMany({
      data: users.slice(from, from + 1000).map(({ username, password }) => ({
        customerId: customer.id,
        domainId,
        username,
        ...sipHa1(username, domain, password),
      })),
    });
  }
}

export async function createBenchDatabase(
  dir: string,
): Promise<{ db: Database; url: string; drop(): Promise<void> }> {
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
  return { db, url: url.toString(), drop };
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

export interface RunningKamailio extends CpuMeter {
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
  // tlsf and 256/16 MB of shared/private memory: the allocator and sizes Kamailio performs best with here.
  // `-b`: its UDP receive buffer probed up to what our engine asks for (SIP_UDP_RECEIVE_BUFFER_BYTES),
  // instead of its default 256 KB cap: the same room for bursts on both sides.
  const receiveBuffer = String(DEFAULT_LIMITS.udpReceiveBufferBytes);
  const memory = ['-x', 'tlsf', '-m', '256', '-M', '16', '-b', receiveBuffer];
  const kamailio = spawn(
    'kamailio',
    ['-f', file, '-DD', '-E', '-w', dir, '-Y', runDir, '-P', join(runDir, 'pid'), ...memory],
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
  // The main process and its workers (forked at start-up, all in its tree).
  return { name: 'kamailio', port, stop, cpuSeconds: () => treeCpuSeconds([kamailio.pid!]) };
}

/** Bounded wait until something answers OPTIONS on 127.0.0.1:port. */
async function waitForOptions(port: number, diagnostics: () => string): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    for (let attempt = 0; attempt < 40; attempt++) {
      const local = socket.address().port;
      const message = optionsRequest({
        uri: `sip:127.0.0.1:${port}`,
        via: `SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${attempt}x${Date.now()}`,
        from: '<sip:bench@127.0.0.1>;tag=1',
        to: `<sip:127.0.0.1:${port}>`,
        callId: `ping-${attempt}-${Date.now()}`,
      });
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
