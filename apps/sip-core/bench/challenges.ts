/**
 * Challenges benchmark: new INVITEs without credentials, each answered 407 and acknowledged (INVITE,
 * 407, ACK), as every call's first attempt and every scanner's probe arrive. For each target the
 * highest rate at which every INVITE is challenged with no retransmission, and the CPU seconds per
 * 1000 challenges:
 * - `sip-core`: engine + sip-core in one process as the all-in-one launcher runs them, the 407 answered
 *   in the engine's process (sip/local-engine.ts `gateInvites`);
 * - `sip-core over the link`: the same, every INVITE over the in-process drachtio link to the app's
 *   INVITE chain (as before the gate, and as with several sip-core workers);
 * - `kamailio`: Kamailio 5.6 with kamailio-calls.cfg (the calls bench's anchor), whose `auth_challenge`
 *   answers statelessly from the HA1 values in memory.
 * The callers are BENCH_CALLERS (1 000) subscribers of one domain; trials last BENCH_TRIAL_S (10) s;
 * BENCH_WARMUP_CALLS uncounted challenges at 1000/s come first.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeKamailioSubscribers } from './registrar.ts';
import {
  type CpuMeter,
  createBenchDatabase,
  DOMAIN,
  HERE,
  LAYOUT,
  loadAverage,
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

const CALLERS = Number(process.env.BENCH_CALLERS ?? 1000);
const TRIAL_S = Number(process.env.BENCH_TRIAL_S ?? 10);
/** Seconds after each trial whose CPU still counts (the transactions of the last 407s end). */
const DRAIN_S = 5;
const WARMUP_RATE = 1000;
const SEARCH = rateSearch({ start: 1000, max: 16000, refineSteps: 0 });
const SCENARIO = join(HERE, '..', 'test', 'sipp', 'calls', 'uac-invite-challenged.xml');

const callers = Array.from({ length: CALLERS }, (_, i) => `caller${String(i + 1).padStart(5, '0')}`);
const users = () => callers.map((username) => ({ username, password: `${username}-secret` }));

/** The scenario's fields: caller, (unused) secret, domain, callee. */
function writeCsv(dir: string): string {
  const rows = ['SEQUENTIAL', ...callers.map((caller) => `${caller};-;${DOMAIN};callee`)];
  const file = join(dir, 'challenges.csv');
  writeFileSync(file, `${rows.join('\n')}\n`);
  return file;
}

async function runTrial(
  remote: string,
  csv: string,
  rate: number,
  dir: string,
  calls?: number,
): Promise<Trial> {
  const count = calls ?? Math.round(rate * TRIAL_S);
  return sippTrial({ scenario: SCENARIO, csv, rate, count, dir, remote });
}

function measure(target: CpuMeter, remote: string, csv: string, dir: string): Promise<RateResult> {
  return measureRates(
    target,
    { warmupRate: WARMUP_RATE, search: SEARCH, drainSeconds: DRAIN_S, labelPart: 'challenges-' },
    (rate, calls) => runTrial(remote, csv, rate, dir, calls),
  );
}

/** sip-core with the callers provisioned; `overLink` leaves every INVITE to the app over the link. */
async function benchSipCore(dir: string, csv: string, overLink: boolean): Promise<RateResult> {
  const bench = await createBenchDatabase(dir);
  try {
    await provisionSubscribers(bench.db, DOMAIN, users());
    const sipCore = await startSipCoreUnderTest(
      bench,
      (enginePort, secret) => ({
        drachtio: { host: '127.0.0.1', port: enginePort, secret },
        nodeName: 'bench',
        auth: { algorithms: ['MD5'] },
        access: { rateLimitPerSecond: 0 },
        nat: { keepaliveInterval: 0 },
      }),
      // The extra dependencies are applied last: an unset `localEngine` takes the hand-over away.
      overLink ? { localEngine: undefined } : {},
    );
    const meter = { ...sipCore, name: overLink ? 'sip-core over the link' : 'sip-core' };
    try {
      return await measure(meter, sipCore.remote, csv, dir);
    } finally {
      await sipCore.stop();
    }
  } finally {
    await bench.drop();
  }
}

async function benchKamailio(dir: string, csv: string): Promise<RateResult> {
  // Its rtpengine module is loaded but never asked: no INVITE here gets past the challenge.
  const kamailio = await startKamailio(
    'kamailio-calls.cfg',
    { DBURL: writeKamailioSubscribers(dir, users(), DOMAIN), RTPENGINE: '127.0.0.1:9' },
    dir,
  );
  try {
    return await measure(kamailio, `127.0.0.1:${kamailio.port}`, csv, dir);
  } finally {
    await kamailio.stop();
  }
}

export async function benchChallenges(dir: string, targets: string[]): Promise<void> {
  if (LAYOUT !== 'one')
    throw new Error('the challenges benchmark runs engine and sip-core in one process only');
  const csv = writeCsv(dir);
  console.log(
    `challenges bench: ${CALLERS} callers, INVITE + 407 + ACK per challenge, ~${TRIAL_S} s per trial; load ${loadAverage()}`,
  );
  const none: RateResult = { trials: [], idleCpuPerSecond: 0 };
  const sipCore = targets.includes('sip-core') ? await benchSipCore(dir, csv, false) : none;
  const overLink = targets.includes('sip-core') ? await benchSipCore(dir, csv, true) : none;
  const kamailio = targets.includes('kamailio') ? await benchKamailio(dir, csv) : none;
  writeReport('challenges', { callers: CALLERS, trialSeconds: TRIAL_S }, sipCore, kamailio, {
    others: { sipCoreOverLink: overLink },
  });
}
