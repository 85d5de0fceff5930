import { randomBytes, randomUUID } from 'node:crypto';
import type { ResolvedMedia } from '@switchboard/media';
import { computeDigestAuthorization } from '@switchboard/sip';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { type RunningSipCore, startSipCore } from '../../src/start.ts';
import { createSubscriber, createTenant, createTestDatabase } from '../support/database.ts';
import { describeOnEngine, onEngine, startTestEngine, type TestEngine } from '../support/engine.ts';
import { rawRequest, udpPeer } from '../support/raw-sip.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import {
  aliceCallsBob,
  type CallStack,
  callFields,
  closeCallStack,
  DOMAIN,
  hangUpHeld,
  holdCall,
  registerWithSipp,
  startRtpengine,
} from './support/stack.ts';

/**
 * Two sip-core workers attached to one engine (SIP_CORE_WORKERS=2), sharing PostgreSQL and the call
 * counts in a real Redis: the engine hands new requests to them in turn and in-dialog requests to the
 * worker owning the dialog. A binding registered through one is found by the other at once (the table
 * gets it only after a long write-behind window here), calls are answered by either, and a customer's
 * limit of one call holds across both.
 */

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NODE = 'workers-test';

let stack: CallStack;
const workers: RunningSipCore[] = [];
let bobPort: number;

beforeAll(async () => {
  const testDb = await createTestDatabase();
  const tenant = await createTenant(testDb.db, DOMAIN);
  const subscribers = new Map<string, string>();
  for (const [user, password] of Object.entries({
    alice: 'alice-secret',
    bob: 'bob-secret',
    carol: 'carol-secret',
  }))
    subscribers.set(user, await createSubscriber(testDb.db, tenant, user, password));
  let media: ResolvedMedia | undefined;
  let engine: TestEngine | undefined;
  const secret = 'workers-test-secret';
  const nonceSecret = randomBytes(24).toString('hex');
  const keyPrefix = `test:${randomUUID()}:`;
  const close = async () => {
    for (const worker of workers) await worker.close();
    await engine?.close();
    await media?.stop();
    await testDb.drop();
  };
  try {
    media = await startRtpengine();
    engine = await startTestEngine({ secret, logger: log });
    for (const index of [1, 2])
      workers.push(
        await startSipCore(
          {
            drachtio: engine.drachtio,
            nodeName: NODE,
            worker: { index, count: 2 },
            redis: { url: REDIS_URL, keyPrefix },
            // sipp answers MD5 challenges only; both workers accept the nonces either issues.
            auth: { algorithms: ['MD5'], nonceSecret },
            access: { rateLimitPerSecond: 0 },
            nat: { keepaliveInterval: 0 },
            // Long enough that a binding can only reach the other worker ahead of the table.
            registrar: { writeBehindMs: 5_000 },
          },
          { prisma: testDb.db.prisma, db: testDb.db, logger: log, media: media.media },
        ),
      );
  } catch (error) {
    await close();
    throw error;
  }
  stack = {
    testDb,
    tenant,
    sipCore: workers[0]!,
    media,
    sipAddress: engine.remote,
    engine,
    subscribers,
    close,
  };
}, 90_000);

afterAll(() => closeCallStack(stack), 30_000);

const prisma = () => stack.testDb.db.prisma;
const workerNodes = [NODE, `${NODE}/2`];

/** One INVITE that is challenged and abandoned: the engine's turn moves to the other worker. */
async function nextWorker(): Promise<void> {
  const run = runSipp({
    scenario: 'uac-invite-challenged.xml',
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', 'bob'),
    timeoutS: 10,
  });
  expectSippOk(await run.done, 'uac-invite-challenged.xml');
}

describeOnEngine(onEngine('two sip-core workers behind one engine'), () => {
  it('a binding registered through one worker is in both at once, before the table has it', async () => {
    bobPort = await registerWithSipp(stack, 'bob', 'bob-secret');
    const aor = `sip:bob@${DOMAIN}`;
    // The worker that answered holds it before its 200 went out; the other hears of it through Redis
    // a moment later (once under CI load, not yet when sipp's run ended). Well inside the 5 s write-behind.
    await vi.waitFor(
      () => {
        for (const worker of workers) expect(worker.location.lookup(aor)).toHaveLength(1);
      },
      { timeout: 2_000, interval: 20 },
    );
    expect(await prisma().registration.count()).toBe(0);
  });

  it('calls are answered through either worker, each with one CDR and the BYE reaching its owner', async () => {
    const first = await aliceCallsBob(stack, bobPort, 'uac-call-bye.xml', 'uas-answer.xml');
    await nextWorker();
    const second = await aliceCallsBob(stack, bobPort, 'uac-call-bye.xml', 'uas-answer.xml');
    for (const cdr of [first, second])
      expect(cdr).toMatchObject({
        disposition: 'answered',
        sipCode: 200,
        callerCustomerId: stack.tenant.customerId,
      });
    expect(workerNodes).toContain(first.node);
    expect(workerNodes).toContain(second.node);
    expect(first.node).not.toBe(second.node);
  });

  it("a customer's limit of one call holds across the workers and is given back at the call's end", async () => {
    const customerId = stack.tenant.customerId;
    await prisma().customer.update({ where: { id: customerId }, data: { maxConcurrentCalls: 1 } });
    await untilCustomerLimit(customerId, 1);
    const before = await prisma().cdr.count();
    const held = await holdCall(stack, bobPort);
    const owner = await answeredOn();
    // carol's authenticated INVITE goes to the other worker, which refuses it: acme's call is on `owner`.
    await nextWorker();
    const refusedRun = runSipp({
      scenario: 'uac-call-rejected.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('carol', 'carol-secret', 'bob'),
      authUri: `bob@${DOMAIN}`,
      timeoutS: 20,
    });
    expectSippOk(await refusedRun.done, 'uac-call-rejected.xml');
    // The refusal's CDR is written right after the answer: a bounded wait for it.
    const refused = await vi.waitFor(
      async () => {
        const row = await prisma().cdr.findFirst({ where: { sipCode: 503 } });
        expect(row).toMatchObject({ sipReason: 'Service Unavailable', calleeCustomerId: customerId });
        return row!;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(workerNodes).toContain(refused.node);
    expect(refused.node).not.toBe(workerNodes[owner]);

    // The held call ends (hang-up on the call-control channel: only its owner has it).
    const callId = workers[owner]!.activeCalls()[0]!.callId;
    await hangUpHeld(stack, callId, held);
    await vi.waitFor(
      async () => {
        const row = await prisma().cdr.findFirst({ where: { callId, sipReason: { not: IN_PROGRESS } } });
        expect(row).toMatchObject({ disposition: 'answered', node: workerNodes[owner] });
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(await prisma().cdr.count()).toBe(before + 2);
    // Its room is free again, whichever worker takes the next call.
    await nextWorker();
    const after = await aliceCallsBob(stack, bobPort, 'uac-call-bye.xml', 'uas-answer.xml');
    expect(after).toMatchObject({ disposition: 'answered' });
  });

  it("a call one worker handles is in every worker's presence and live list, and leaves both at its end", async () => {
    const bobId = stack.subscribers.get('bob')!;
    const aor = `sip:bob@${DOMAIN}`;
    for (const worker of workers) expect(worker.presenceStatus(bobId, aor)).toBe('online');
    const held = await holdCall(stack, bobPort);
    const owner = await answeredOn();
    const other = workers[1 - owner]!;
    const callId = workers[owner]!.activeCalls()[0]!.callId;
    expect(other.activeCalls()).toEqual([]);
    // The owner announces the call; the other worker hears it through PostgreSQL a moment later.
    await vi.waitFor(
      () => {
        expect(other.presenceStatus(bobId, aor)).toBe('in-call');
        expect(other.liveCalls()).toEqual([
          expect.objectContaining({
            callId,
            state: 'answered',
            node: workerNodes[owner],
            calleeSubscriberId: bobId,
          }),
        ]);
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(workers[owner]!.liveCalls()).toEqual([
      expect.objectContaining({ callId, node: workerNodes[owner] }),
    ]);

    await hangUpHeld(stack, callId, held);
    await vi.waitFor(
      () => {
        for (const worker of workers) {
          expect(worker.presenceStatus(bobId, aor)).toBe('online');
          expect(worker.liveCalls()).toEqual([]);
        }
      },
      { timeout: 5_000, interval: 50 },
    );
  });

  it('a presence publication accepted by one worker is refreshed and removed through the other, and seen by both', async () => {
    const [, port] = stack.sipAddress.split(':') as [string, string];
    const phone = await udpPeer('127.0.0.1', Number(port));
    const carolId = stack.subscribers.get('carol')!;
    const uri = `sip:carol@${DOMAIN}`;
    const document = `<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${uri}"><tuple id="t1"><status><basic>open</basic></status><note>away for lunch</note></tuple></presence>`;
    let sent = 0;
    let challenge = '';
    let nc = 0;
    // The engine hands PUBLISHes to the two workers in turn, so consecutive ones reach different workers.
    const publish = async (o: { ifMatch?: string; expires: number; body?: string }) => {
      const body = o.body ?? '';
      const authorization = challenge
        ? computeDigestAuthorization({
            challenge,
            method: 'PUBLISH',
            uri,
            username: 'carol',
            password: 'carol-secret',
            nc: ++nc,
            cnonce: 'publish-test',
          })
        : undefined;
      const lines = [
        `PUBLISH ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bK-publish-${sent};rport`,
        'Max-Forwards: 70',
        `From: <${uri}>;tag=publish-${sent}`,
        `To: <${uri}>`,
        `Call-ID: publish-${randomUUID()}`,
        `CSeq: ${sent + 1} PUBLISH`,
        'Event: presence',
        `Expires: ${o.expires}`,
        ...(o.ifMatch ? [`SIP-If-Match: ${o.ifMatch}`] : []),
        ...(authorization ? [`Proxy-Authorization: ${authorization}`] : []),
        ...(body ? ['Content-Type: application/pidf+xml'] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ];
      await phone.send(lines.join('\r\n'));
      sent++;
      await phone.waitFor(sent, 10_000);
      const response = phone.received[sent - 1] as string;
      return {
        status: Number(response.split(' ', 2)[1]),
        etag: /^SIP-ETag: *(\S+)/im.exec(response)?.[1],
        challenge: /^Proxy-Authenticate: *(.*)$/im.exec(response)?.[1],
      };
    };
    try {
      const first = await publish({ expires: 60, body: document });
      expect(first.status).toBe(407);
      challenge = first.challenge as string;
      const accepted = await publish({ expires: 60, body: document });
      expect(accepted.status).toBe(200);
      await vi.waitFor(
        () => {
          for (const worker of workers) expect(worker.presence.store.published(carolId)).toBe(document);
        },
        { timeout: 5_000, interval: 20 },
      );
      // The refresh names the entity tag the first worker issued; it reaches the other one.
      const refreshed = await publish({ expires: 60, ifMatch: accepted.etag });
      expect(refreshed.status).toBe(200);
      expect(refreshed.etag).not.toBe(accepted.etag);
      const removed = await publish({ expires: 0, ifMatch: refreshed.etag });
      expect(removed.status).toBe(200);
      await vi.waitFor(
        () => {
          for (const worker of workers) expect(worker.presence.store.published(carolId)).toBeUndefined();
        },
        { timeout: 5_000, interval: 20 },
      );
    } finally {
      phone.close();
    }
  });

  it('an Authorization one worker accepted is refused as a replay by the other (nonce-counts in Redis)', async () => {
    const [host, port] = stack.sipAddress.split(':') as [string, string];
    expect(host).toBe('127.0.0.1');
    const phone = await udpPeer('127.0.0.1', Number(port));
    try {
      const callId = `replay-${randomUUID()}`;
      let sent = 0;
      // The engine hands REGISTERs to the two workers in turn, so consecutive ones reach different workers.
      const register = async (o: {
        branch: string;
        callId: string;
        cseq: number;
        authorization?: string;
      }) => {
        let text = rawRequest({
          method: 'REGISTER',
          transport: 'UDP',
          peer: phone,
          domain: DOMAIN,
          user: 'carol',
          ...o,
        });
        if (o.authorization)
          text = text.replace('Content-Length:', `Authorization: ${o.authorization}\r\nContent-Length:`);
        await phone.send(text);
        sent++;
        await phone.waitFor(sent, 10_000);
        return phone.received[sent - 1] as string;
      };
      const statusOf = (response: string) => Number(response.split(' ', 2)[1]);
      const challenge = await register({ branch: 'z9hG4bK-replay-1', callId, cseq: 1 });
      expect(statusOf(challenge)).toBe(401);
      const wwwAuthenticate = /^WWW-Authenticate: *(.*)$/im.exec(challenge)?.[1] as string;
      const authorize = (nc: number) =>
        computeDigestAuthorization({
          challenge: wwwAuthenticate,
          method: 'REGISTER',
          uri: `sip:${DOMAIN}`,
          username: 'carol',
          password: 'carol-secret',
          nc,
          cnonce: 'replay-test',
        });
      const first = authorize(1);
      expect(
        statusOf(await register({ branch: 'z9hG4bK-replay-2', callId, cseq: 2, authorization: first })),
      ).toBe(200);
      // The same Authorization in a new transaction and dialog (neither Via nor Call-ID is in the digest).
      const replayed = await register({
        branch: 'z9hG4bK-replay-3',
        callId: `${callId}-copy`,
        cseq: 1,
        authorization: first,
      });
      expect(statusOf(replayed)).toBe(401);
      // The client's own next use of the nonce counts up and is accepted on either worker.
      expect(
        statusOf(
          await register({ branch: 'z9hG4bK-replay-4', callId, cseq: 3, authorization: authorize(2) }),
        ),
      ).toBe(200);
    } finally {
      phone.close();
    }
  });
});

/** Bounded wait (10 s) until both workers' directories hold the customer's new limit. */
async function untilCustomerLimit(customerId: string, max: number): Promise<void> {
  const subscriberId = stack.subscribers.get('carol')!;
  const deadline = Date.now() + 10_000;
  while (
    !workers.every(
      (worker) => worker.caches.directory.subscriberById(subscriberId)?.customer.maxConcurrentCalls === max,
    )
  ) {
    if (Date.now() > deadline) throw new Error(`the limit of ${customerId} did not reach both workers`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Bounded wait (10 s) for the one answered call; resolves with the index of the worker that has it. */
async function answeredOn(): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const owner = workers.findIndex((worker) =>
      worker.activeCalls().some((call) => call.state === 'answered'),
    );
    if (owner >= 0) {
      expect(workers.filter((worker) => worker.activeCalls().length > 0)).toHaveLength(1);
      return owner;
    }
    if (Date.now() > deadline) throw new Error('the call was not answered');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
