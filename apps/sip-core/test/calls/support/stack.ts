import { join } from 'node:path';
import type { S3Settings } from '@switchboard/config';
import { CALL_CONTROL_CHANNEL, type PrismaClient, type SqlSession } from '@switchboard/db';
import type { RunningEngine } from '@switchboard/engine';
import { DtmfFeed, type ResolvedMedia, resolveMediaConfig } from '@switchboard/media';
import type { MetricsRegistry } from '@switchboard/metrics';
import { pino } from 'pino';
import { expect, vi } from 'vitest';
import type { CallsConfig } from '../../../src/calls/calls-config.ts';
import type { CallCredit } from '../../../src/calls/credit.ts';
import type { Party } from '../../../src/calls/party.ts';
import { IN_PROGRESS } from '../../../src/cdr/cdr-writer.ts';
import type { SipCorePushOptions } from '../../../src/push/setup.ts';
import type { LocalEngine } from '../../../src/sip/local-engine.ts';
import { type RunningSipCore, startSipCore, type VoicemailSettings } from '../../../src/start.ts';
import type { TrunkOptions } from '../../../src/trunks/trunks.ts';
import {
  createSubscriber,
  createTenant,
  createTestDatabase,
  type TestDatabase,
  type TestTenant,
} from '../../support/database.ts';
import { startTestEngine, type TestEngine, type TestEngineOptions } from '../../support/engine.ts';
import { allocatePort, expectSippOk, runSipp, stopAllSipp } from './sipp.ts';

export const DOMAIN = 'example.test';
const SECRET = 'calls-test-secret';
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface CallStack {
  testDb: TestDatabase;
  tenant: TestTenant;
  sipCore: RunningSipCore;
  media: ResolvedMedia;
  /** `127.0.0.1:port` of the engine's UDP listener. */
  sipAddress: string;
  /** The engine under test (its listeners' ports, and ours' call capture). */
  engine: TestEngine;
  subscribers: Map<string, string>;
  /** Stops sip-core and starts a new one on the same engine, database and media (a restart; a new digest secret). */
  restartSipCore?(): Promise<void>;
  close(): Promise<void>;
}

/** A free NG port in 22400-22499 and an RTP range slice of 40000-40999 for this file's rtpengine. */
export async function startRtpengine(dataDir?: string, dtmfLogDest?: string): Promise<ResolvedMedia> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const ngPort = 22400 + Math.floor(Math.random() * 100);
    const slice = Math.floor(Math.random() * 10) * 100;
    try {
      return await resolveMediaConfig(undefined, log, {
        local: {
          ngPort,
          portMin: 40000 + slice,
          portMax: 40099 + slice,
          interface: '127.0.0.1',
          ...(dataDir ? { dataDir } : {}),
          ...(dtmfLogDest ? { dtmfLogDest } : {}),
        },
      });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** What a test adds to the default stack; every field optional. */
export interface CallStackOptions {
  /** Peers trusted by source address without digest. */
  trustedSources?: string[];
  push?: SipCorePushOptions;
  /** Registry sip-core counts into (tests that scrape /metrics); default: a private one. */
  metrics?: MetricsRegistry;
  /** The client sip-core gets, made from the test database's (tests that watch its queries). */
  prismaFor?: (prisma: PrismaClient) => PrismaClient;
  /** The driver's statements sip-core gets (`Database.sql`), made from the test database's. */
  sqlFor?: (sql: SqlSession) => SqlSession;
  /** More SIP listeners than UDP (the first one stays UDP, where sipp sends), e.g. TLS with its certificate. */
  listeners?: Pick<TestEngineOptions, 'transports' | 'tls' | 'outboundTlsCa'>;
  /** Trunk registration and health check timing (tests of trunks/ shorten it). */
  trunks?: Partial<TrunkOptions>;
  /** Voicemail on, with these settings (its data directory at least); default: off. */
  voicemail?: Partial<VoicemailSettings>;
  /** Credit control of PSTN calls (prepaid tests), made on the test database; stopped with the stack. */
  credit?: (db: TestDatabase) => Promise<CallCredit & { stop(): Promise<void> }>;
  /**
   * Call recording: rtpengine captures into `<dataDir>/recordings`, sip-core stores the files there, or
   * in the bucket `objectStorage` names.
   */
  recording?: {
    dataDir: string;
    announcementFile?: string;
    announcementPrompts?: string;
    objectStorage?: S3Settings;
  };
  /** rtpengine's DTMF feed to sip-core (RFC 4733 keys become INFO towards `dtmfInfo` peers). */
  dtmfFeed?: boolean;
  /** Failed authentications that ban an address (tests of bans lower it); default: sip-core's. */
  maxFailuresPerAddress?: number;
  /**
   * Hand REGISTER and INVITE over from our engine in this process, as the all-in-one launcher does
   * (sip/local-engine.ts); every hand-over and what became of it is noted here. Ours only.
   */
  localEngine?: LocalHandOvers;
}

/** What the engine handed over in this process: each request's method and its local answer, or `passed`. */
export interface LocalHandOvers {
  outcomes: Array<{ method: string; outcome: number | 'passed' }>;
}

/** The engine's `answerLocally`, noting in `seen` what each handed-over request became. */
function notedLocalEngine(engine: RunningEngine, seen: LocalHandOvers): LocalEngine {
  return {
    answerLocally: (method, handler) =>
      engine.answerLocally(method, (local) => {
        const noted = { method: local.request.method, outcome: 0 as number | 'passed' };
        seen.outcomes.push(noted);
        handler({
          request: local.request,
          source: local.source,
          receivedOn: local.receivedOn,
          respond(status, reason, headers) {
            if (status >= 200 && noted.outcome === 0) noted.outcome = status;
            local.respond(status, reason, headers);
          },
          passOn() {
            if (noted.outcome === 0) noted.outcome = 'passed';
            local.passOn();
          },
        });
      }),
  };
}

/**
 * Engine (ours or drachtio-server, ../../support/engine.ts) + sip-core + a real rtpengine + a fresh PostgreSQL database on loopback, with subscribers
 * `name -> password` created in example.test.
 */
export async function startCallStack(
  users: Record<string, string>,
  calls: Partial<CallsConfig> = {},
  prepare: (
    db: TestDatabase,
    tenant: TestTenant,
    subscribers: Map<string, string>,
  ) => Promise<void> = async () => {},
  options: CallStackOptions = {},
): Promise<CallStack> {
  const {
    trustedSources = [],
    push,
    metrics,
    prismaFor = (prisma) => prisma,
    sqlFor,
    listeners = {},
    trunks,
    voicemail,
    credit,
    recording,
    dtmfFeed: withDtmfFeed = false,
    maxFailuresPerAddress,
    localEngine,
  } = options;
  const testDb = await createTestDatabase();
  const tenant = await createTenant(testDb.db, DOMAIN);
  const subscribers = new Map<string, string>();
  for (const [user, password] of Object.entries(users))
    subscribers.set(user, await createSubscriber(testDb.db, tenant, user, password));
  await prepare(testDb, tenant, subscribers);
  const creditControl = credit ? await credit(testDb) : undefined;
  // The parties' RFC 4733 keys: INFO towards `dtmfInfo` peers, and the on-demand recording code.
  const dtmfFeed =
    withDtmfFeed || recording
      ? await DtmfFeed.start({ listen: { host: '127.0.0.1', port: await allocatePort() }, logger: log })
      : undefined;
  const media = await startRtpengine(recording?.dataDir, dtmfFeed ? `127.0.0.1:${dtmfFeed.port}` : undefined);
  const engine = await startTestEngine({ secret: SECRET, logger: log, ...listeners });
  if (localEngine && !engine.switchboard) throw new Error('only our engine hands requests over in-process');
  const handOver =
    localEngine && engine.switchboard
      ? { localEngine: notedLocalEngine(engine.switchboard, localEngine) }
      : {};
  const boot = () =>
    startSipCore(
      {
        drachtio: engine.drachtio,
        nodeName: 'calls-test',
        // sipp answers MD5 challenges only.
        auth: { algorithms: ['MD5'] },
        access: {
          rateLimitPerSecond: 0,
          trustedSources,
          ...(maxFailuresPerAddress ? { maxFailuresPerAddress } : {}),
        },
        nat: { keepaliveInterval: 0 },
      },
      {
        prisma: prismaFor(testDb.db.prisma),
        db: sqlFor ? { onChange: testDb.db.onChange.bind(testDb.db), sql: sqlFor(testDb.db.sql) } : testDb.db,
        logger: log,
        media: media.media,
        calls,
        ...(push ? { push } : {}),
        ...(metrics ? { metrics } : {}),
        ...(trunks ? { trunks } : {}),
        ...(voicemail ? { voicemail } : {}),
        ...(creditControl ? { credit: creditControl } : {}),
        ...(dtmfFeed ? { dtmfFeed } : {}),
        ...handOver,
        ...(recording
          ? {
              recording: {
                captureDir: join(recording.dataDir, 'recordings'),
                storageDir: join(recording.dataDir, 'recordings', 'calls'),
                announcementFile: recording.announcementFile,
                announcementPrompts: recording.announcementPrompts,
                objectStorage: recording.objectStorage,
              },
            }
          : {}),
      },
    );
  const stack: CallStack = {
    testDb,
    tenant,
    sipCore: await boot(),
    media,
    sipAddress: engine.remote,
    engine,
    subscribers,
    async restartSipCore() {
      await stack.sipCore.close();
      stack.sipCore = await boot();
    },
    async close() {
      await stack.sipCore.close();
      await creditControl?.stop();
      await engine.close();
      await media.stop();
      await dtmfFeed?.close();
      await testDb.drop();
    },
  };
  return stack;
}

/** Registers `user` from a sipp on a fresh port through the platform; returns that port for its UAS. */
export async function registerWithSipp(stack: CallStack, user: string, password: string): Promise<number> {
  const port = await allocatePort();
  const run = runSipp({
    scenario: 'register.xml',
    port,
    remote: stack.sipAddress,
    fields: [user, `[authentication username=${user} password=${password}]`, DOMAIN],
    authUri: DOMAIN,
  });
  expectSippOk(await run.done, `register ${user}`);
  return port;
}

/** CSV fields of a call from `caller` to `callee` for the uac-call-* scenarios. */
export function callFields(caller: string, password: string, callee: string): string[] {
  return [caller, `[authentication username=${caller} password=${password}]`, DOMAIN, callee];
}

/** A call kept up by its two sipp ends until it is hung up (`hangUpHeld`). */
export interface HeldCall {
  caller: ReturnType<typeof runSipp>;
  callee: ReturnType<typeof runSipp>;
}

/** alice calls bob, answered by sipp on bob's registered port; the call stays up until it is hung up. */
export async function holdCall(stack: CallStack, bobPort: number, timeoutS = 30): Promise<HeldCall> {
  const callee = runSipp({ scenario: 'uas-answer.xml', port: bobPort, timeoutS });
  await callee.listening();
  const caller = runSipp({
    scenario: 'uac-call-wait-bye.xml',
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', 'bob'),
    authUri: `bob@${DOMAIN}`,
    timeoutS,
  });
  return { caller, callee };
}

/** Hangs up a held call on the call-control channel (only its owner has it) and waits for both ends. */
export async function hangUpHeld(stack: CallStack, callId: string, held: HeldCall): Promise<void> {
  await stack.testDb.db.prisma
    .$executeRaw`SELECT pg_notify(${CALL_CONTROL_CHANNEL}, ${JSON.stringify({ callId })})`;
  const [uacResult, uasResult] = await Promise.all([held.caller.done, held.callee.done]);
  expectSippOk(uacResult, 'uac-call-wait-bye.xml');
  expectSippOk(uasResult, 'uas-answer.xml');
}

/**
 * alice calls bob: bob runs `uas` on his registered port (undefined: bob is not reached), alice runs `uac`;
 * both must end as their scenarios expect. Resolves with the call's completed CDR.
 */
export async function aliceCallsBob(stack: CallStack, bobPort: number, uac: string, uas?: string) {
  const before = await stack.testDb.db.prisma.cdr.count();
  const callee = uas ? runSipp({ scenario: uas, port: bobPort, timeoutS: 20 }) : undefined;
  await callee?.listening();
  const caller = runSipp({
    scenario: uac,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', 'bob'),
    authUri: `bob@${DOMAIN}`,
    timeoutS: 20,
  });
  const [uacResult, uasResult] = await Promise.all([caller.done, callee?.done]);
  expectSippOk(uacResult, uac);
  if (uas && uasResult) expectSippOk(uasResult, uas);
  return completedCdr(stack, before);
}

/**
 * Bounded wait (10 s) for the newest CDR to be completed once the table has more than `before`
 * rows; there must be exactly one new row per call attempt.
 */
export async function completedCdr(stack: CallStack, before: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await stack.testDb.db.prisma.cdr.findMany({ orderBy: { createdAt: 'desc' } });
    const row = rows[0];
    if (rows.length > before && row && row.sipReason !== IN_PROGRESS) {
      expect(rows.length).toBe(before + 1);
      return row;
    }
    if (Date.now() > deadline) throw new Error('the CDR was not completed');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Bounded wait (10 s) until sip-core's directory holds `subscriberId` with limits `check` accepts: a
 * change written to the database reaches the calls through the change feed, a moment later.
 */
export async function untilLimits(
  stack: CallStack,
  subscriberId: string,
  check: (party: Party) => boolean,
): Promise<void> {
  await vi.waitFor(
    () => {
      const party = stack.sipCore.caches.directory.subscriberById(subscriberId);
      if (!party || !check(party)) throw new Error(`the limits of ${subscriberId} did not arrive`);
    },
    { timeout: 10_000, interval: 50 },
  );
}

/**
 * Bounded wait (20 s) until `user` of DOMAIN has a binding in sip-core's location, from a phone whose
 * User-Agent contains `agent` when given (several phones of one user); returns that binding. A phone
 * that does not register fails the wait with the end of its output.
 */
export async function untilBound(
  stack: CallStack,
  user: string,
  phone: { output(): string },
  agent?: string,
) {
  for (let attempt = 0; attempt < 80; attempt++) {
    const bindings = stack.sipCore.location.lookup(`sip:${user}@${DOMAIN}`);
    const binding = bindings.find((b) => agent === undefined || b.userAgent?.toLowerCase().includes(agent));
    if (binding) return binding;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${agent ?? 'the phone'} did not register as ${user}:\n${phone.output().slice(-3000)}`);
}

/** Stops every sipp still running, then the stack (when it got started). */
export async function closeCallStack(stack: CallStack | undefined): Promise<void> {
  stopAllSipp();
  await stack?.close();
}
