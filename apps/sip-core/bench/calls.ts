/**
 * Calls benchmark: subscriber-to-subscriber call cycles (INVITE, 407, ACK, INVITE with digest,
 * 100/180/200, ACK, BYE, 200) with sipp, media anchored on a real rtpengine, against engine + sip-core
 * + PostgreSQL (B2BUA, CDR per call) and against Kamailio 5.6 as the reference (stateful proxy with
 * record-routing, the same digest checks, the same rtpengine flags). For each, the highest call rate
 * at which every call of a trial completes with 0 failed calls and 0 retransmissions on either side.
 *
 * A sipp UAS registers the callee through the target from its own port, then answers every call; a
 * sipp UAC calls it from a pool of BENCH_CALLERS (1 000) authenticated subscribers. One callee only:
 * sipp computes every digest over one fixed `uri` (-auth_uri), and sip-core requires it to be the
 * Request-URI.
 * Each trial lasts about BENCH_TRIAL_S (20) seconds at its rate; calls are held BENCH_HOLD_MS (1 000).
 * BENCH_WARMUP_CALLS (2 000) uncounted calls at 100 per second come before the first trial.
 * Every trial also reports the CPU seconds of the proxy's processes per 1000 calls (rtpengine not
 * counted: each target has its own, doing the same work). Engine and sip-core run in one process:
 * the media relay and call settings cannot be handed to the split layout's second process.
 * BENCH_MAX_CALLS_PER_SECOND sets sip-core's calls.maxPerSecond (default 0: none), to see what the
 * node's own limit does to a trial past its clean rate.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '@switchboard/db';
import { NgClient, type ResolvedMedia, resolveMediaConfig } from '@switchboard/media';
import { writeKamailioSubscribers } from './registrar.ts';
import {
  type CpuMeter,
  createBenchDatabase,
  DOMAIN,
  freeUdpPort,
  HERE,
  LAYOUT,
  loadAverage,
  log,
  measureRates,
  provisionSubscribers,
  type RateResult,
  rateSearch,
  runSipp,
  startKamailio,
  startSipCoreUnderTest,
  type Trial,
  writeReport,
} from './support.ts';

const CALLERS = Number(process.env.BENCH_CALLERS ?? 1000);
const TRIAL_S = Number(process.env.BENCH_TRIAL_S ?? 20);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 1000);
/**
 * Seconds of quiet after each trial: calls a failed trial left hanging end by their 10-second INVITE
 * timers (sip-core's ring timeout, Kamailio's fr_inv_timer), so that a trial does not inherit the
 * previous one's debris. Its CPU time counts for the trial (BYE transactions linger, CDRs complete).
 */
const COOLDOWN_S = Number(process.env.BENCH_COOLDOWN_S ?? 15);
const MAX_CALLS_PER_SECOND = Number(process.env.BENCH_MAX_CALLS_PER_SECOND ?? 0);
/** Ring timeout for sip-core, the same as Kamailio's fr_inv_timer in kamailio-calls.cfg. */
const RING_TIMEOUT_S = 10;
/** Calls per second of the warm-up (BENCH_WARMUP_CALLS of them): well inside every target's clean rate. */
const WARMUP_RATE = 100;
/** The relay's RTP ports; the scenarios check that both offer and answer point into 44000-47999. */
const RTP_PORTS = { portMin: 44000, portMax: 47999 };
const SEARCH = rateSearch({ start: 10, max: 1280, refineSteps: 3 });

interface Subscriber {
  username: string;
  password: string;
}

const callers: Subscriber[] = Array.from({ length: CALLERS }, (_, i) => ({
  username: `caller${String(i + 1).padStart(5, '0')}`,
  password: `caller-${i + 1}-secret`,
}));
const callee: Subscriber = { username: 'callee', password: 'callee-secret' };
const auth = (s: Subscriber): string => `[authentication username=${s.username} password=${s.password}]`;

function writeCsvs(dir: string): { calls: string; registrations: string } {
  const calls = ['SEQUENTIAL'];
  for (let i = 0; i < CALLERS; i++) {
    const caller = callers[i]!;
    calls.push(`${caller.username};${DOMAIN};${auth(caller)};${callee.username}`);
  }
  const registrations = ['SEQUENTIAL', `${callee.username};${DOMAIN};${auth(callee)}`];
  writeFileSync(join(dir, 'calls.csv'), `${calls.join('\n')}\n`);
  writeFileSync(join(dir, 'callees.csv'), `${registrations.join('\n')}\n`);
  return { calls: join(dir, 'calls.csv'), registrations: join(dir, 'callees.csv') };
}

/** Its own rtpengine for one target: NG port in 22500-22599, RTP in RTP_PORTS. */
async function startRtpengine(): Promise<ResolvedMedia> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const ngPort = 22500 + Math.floor(Math.random() * 100);
      return await resolveMediaConfig(undefined, log, {
        local: { ngPort, ...RTP_PORTS, interface: '127.0.0.1' },
      });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * How long a call whose caller went away can keep its relay session: its 2xx waits for the ACK for
 * Timer H (64*T1, 32 s), then the B2BUA ends both legs. An overloaded trial leaves such calls behind.
 */
const SETTLE_S = 40;

/** The relay's sessions after the last trial's cooldown, and once the calls' own timers had time to end them. */
interface LeftoverSessions {
  afterCooldown: number;
  afterSettling: number;
  /** Seconds waited for `afterSettling` (0 when nothing was left). */
  settledAfterS: number;
}

/** Sessions the relay still holds, read again each second until none is left or SETTLE_S passed. */
async function leftoverSessions(media: ResolvedMedia): Promise<LeftoverSessions> {
  const [host, port] = media.ngAddresses[0]!.split(':');
  const client = new NgClient({ host: host!, port: Number(port), logger: log });
  try {
    const afterCooldown = (await client.list()).length;
    const started = Date.now();
    let left = afterCooldown;
    while (left > 0 && Date.now() - started < SETTLE_S * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      left = (await client.list()).length;
    }
    return { afterCooldown, afterSettling: left, settledAfterS: Math.round((Date.now() - started) / 1000) };
  } finally {
    client.close();
  }
}

/** `32 after the cooldown, 0 after 33 s more` */
function describeLeftovers(left: LeftoverSessions): string {
  if (left.afterCooldown === 0) return '0';
  return `${left.afterCooldown} after the cooldown, ${left.afterSettling} after ${left.settledAfterS} s more`;
}

/** Registers the callee through `remote` from `port`, where the UAS will then listen. */
async function registerCallee(remote: string, csv: string, port: number, dir: string): Promise<void> {
  const args = ['-sf', join(HERE, 'register.xml'), '-inf', csv, '-m', '1'];
  const stats = await runSipp(args, port, dir, 60, remote).done;
  if (stats.code !== 0 || stats.successful !== 1)
    throw new Error(`the callee did not register (exit ${stats.code})`);
}

/** One trial: the UAS answers, the UAC places `calls` (default rate × TRIAL_S) calls at `rate` per second. */
async function runTrial(
  remote: string,
  csv: string,
  uasPort: number,
  rate: number,
  dir: string,
  calls = Math.max(20, Math.round(rate * TRIAL_S)),
): Promise<Trial> {
  const limitS = Math.ceil(calls / rate + HOLD_MS / 1000) + 60;
  const uas = runSipp(['-sf', join(HERE, 'call-uas.xml'), '-m', String(calls)], uasPort, dir, limitS);
  // The UAS must be listening before the first INVITE reaches it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const uacArgs = ['-sf', join(HERE, 'call-uac.xml'), '-inf', csv, '-m', String(calls), '-r', String(rate)];
  uacArgs.push('-rp', '1000', '-d', String(HOLD_MS), '-l', '20000', '-recv_timeout', '10000');
  uacArgs.push('-auth_uri', `${callee.username}@${DOMAIN}`);
  const uac = await runSipp(uacArgs, await freeUdpPort(), dir, limitS, remote).done;
  // Every call the UAC completed has ended at the UAS too; give its last BYE a moment, bounded.
  const uasDone = await Promise.race([
    uas.done,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000)),
  ]);
  if (!uasDone) uas.stop();
  // A callee sipp still waiting after every caller finished means calls it never saw end.
  const failed = uac.failed + (uasDone ? uasDone.failed : 1);
  const retransmissions = uac.retransmissions + (uasDone?.retransmissions ?? 0);
  return {
    rate,
    ok: uac.code === 0 && uac.successful === calls && failed === 0 && retransmissions === 0,
    successful: uac.successful,
    failed,
    retransmissions,
    seconds: uac.seconds,
    load: loadAverage(),
    detail: `caller failed ${uac.failed} retrans ${uac.retransmissions}; callee ${
      uasDone ? `failed ${uasDone.failed} retrans ${uasDone.retransmissions}` : 'did not finish'
    }`,
  };
}

interface TargetResult extends RateResult {
  leftoverSessions: LeftoverSessions;
}

/** Registers the callee, then the rate search with the CPU of every trial (and its cooldown) counted. */
async function measure(
  target: CpuMeter,
  remote: string,
  csv: ReturnType<typeof writeCsvs>,
  dir: string,
): Promise<RateResult> {
  const uasPort = await freeUdpPort();
  await registerCallee(remote, csv.registrations, uasPort, dir);
  // Uncounted calls first, as the registrar bench does: without them the first trial paid for
  // compiling the call path, and its CPU per call (and the summary's, when it was the only clean one)
  // read high.
  return measureRates(
    target,
    { warmupRate: WARMUP_RATE, search: SEARCH, drainSeconds: COOLDOWN_S, labelPart: 'calls-' },
    (rate, calls) => runTrial(remote, csv.calls, uasPort, rate, dir, calls),
  );
}

/**
 * What became of sip-core's calls by their CDRs, over the warm-up and every trial (`in progress`: calls
 * still up): sipp counts a call refused by the node's own limit (BENCH_MAX_CALLS_PER_SECOND) as neither
 * completed nor timed out, and tells no failure from another.
 */
async function printFinalStatuses(db: Pick<Database, 'sql'>): Promise<void> {
  const rows = await db.sql.query<{ sip_code: number; sip_reason: string; calls: string }>(
    'SELECT sip_code, sip_reason, count(*)::text AS calls FROM cdrs GROUP BY sip_code, sip_reason ORDER BY 1',
  );
  const statuses = rows.map((row) => `${row.sip_code} ${row.sip_reason}: ${row.calls}`).join(', ');
  console.log(`sip-core: CDRs by final status (warm-up and trials): ${statuses}`);
}

async function benchSipCore(dir: string, csv: ReturnType<typeof writeCsvs>): Promise<TargetResult> {
  const bench = await createBenchDatabase(dir);
  const media = await startRtpengine();
  try {
    await provisionSubscribers(bench.db, DOMAIN, [...callers, callee]);
    const sipCore = await startSipCoreUnderTest(
      bench,
      (enginePort, secret) => ({
        drachtio: { host: '127.0.0.1', port: enginePort, secret },
        nodeName: 'bench',
        // sipp answers MD5 challenges only; no trusted sources: every caller authenticates.
        auth: { algorithms: ['MD5'] },
        access: { rateLimitPerSecond: 0 },
        nat: { keepaliveInterval: 0 },
      }),
      { media: media.media, calls: { ringTimeout: RING_TIMEOUT_S, maxPerSecond: MAX_CALLS_PER_SECOND } },
    );
    try {
      const result = await measure(sipCore, sipCore.remote, csv, dir);
      await printFinalStatuses(bench.db);
      return { ...result, leftoverSessions: await leftoverSessions(media) };
    } finally {
      await sipCore.stop();
    }
  } finally {
    await media.stop();
    await bench.drop();
  }
}

async function benchKamailio(dir: string, csv: ReturnType<typeof writeCsvs>): Promise<TargetResult> {
  const media = await startRtpengine();
  try {
    const kamailio = await startKamailio(
      'kamailio-calls.cfg',
      {
        DBURL: writeKamailioSubscribers(dir, [...callers, callee], DOMAIN),
        RTPENGINE: media.ngAddresses[0]!,
      },
      dir,
    );
    try {
      const result = await measure(kamailio, `127.0.0.1:${kamailio.port}`, csv, dir);
      return { ...result, leftoverSessions: await leftoverSessions(media) };
    } finally {
      await kamailio.stop();
    }
  } finally {
    await media.stop();
  }
}

export async function benchCalls(dir: string, targets: string[]): Promise<void> {
  if (LAYOUT !== 'one') throw new Error('the calls benchmark runs engine and sip-core in one process only');
  const csv = writeCsvs(dir);
  console.log(
    `calls bench: ${CALLERS} callers, 1 callee, ~${TRIAL_S} s per trial, calls held ${HOLD_MS} ms, media on rtpengine; load ${loadAverage()}`,
  );
  const none: LeftoverSessions = { afterCooldown: 0, afterSettling: 0, settledAfterS: 0 };
  const empty: TargetResult = { trials: [], idleCpuPerSecond: 0, leftoverSessions: none };
  const sipCore = targets.includes('sip-core') ? await benchSipCore(dir, csv) : empty;
  const kamailio = targets.includes('kamailio') ? await benchKamailio(dir, csv) : empty;
  const fields = { callers: CALLERS, trialSeconds: TRIAL_S, holdMs: HOLD_MS, cooldownSeconds: COOLDOWN_S };
  writeReport('calls', fields, sipCore, kamailio, { targets: { cleanRate: 0.5, cpu: 3 } });
  console.log(
    `relay sessions left over: sip-core ${describeLeftovers(sipCore.leftoverSessions)}; kamailio ${describeLeftovers(kamailio.leftoverSessions)}`,
  );
}
