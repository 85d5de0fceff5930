import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCallCaptures } from '@switchboard/media';
import { recordingWebhookSecretContext, seal } from '@switchboard/push';
import { LocalStorage } from '@switchboard/storage';
import { type CallingSoftphone, startBaresip, startLinphonec, writeToneWav } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { deleteExpiredRecordings } from '../../src/recording/retention.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { expectTone } from './support/audio.ts';
import { allocatePort } from './support/sipp.ts';
import {
  type CallStack,
  closeCallStack,
  completedCdr,
  DOMAIN,
  startCallStack,
  untilBound,
} from './support/stack.ts';

/**
 * Call recording through engine + sip-core + a real rtpengine (pcap recording into the test's data
 * folder) + PostgreSQL: baresip (alice, 440 Hz) calls linphonec (bob, 1000 Hz); their customer records
 * every call. The stored WAV must hold alice's tone alone on the left channel and bob's alone on the
 * right, be linked to the call's CDR, and a local HTTP server must receive the signed webhook.
 */

const ALICE_TONE = 440;
const BOB_TONE = 1000;
const TALK_SECONDS = 4;
const WEBHOOK_SECRET = 'whsec-test-secret';

let stack: CallStack;
let work: string;
let webhook: Server;
let webhookUrl: string;
const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
const phones: CallingSoftphone[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sipcore-recording-'));
  writeToneWav(join(work, 'alice.wav'), ALICE_TONE, 60);
  writeToneWav(join(work, 'bob.wav'), BOB_TONE, 60);
  webhook = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  const webhookPort = await allocatePort();
  await new Promise<void>((resolve) => webhook.listen(webhookPort, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${webhookPort}/hooks/recording`;
  const credentialsKey = randomBytes(32);
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    {},
    async (db, tenant) => {
      await db.db.prisma.customer.update({
        where: { id: tenant.customerId },
        data: {
          recordingMode: 'always',
          recordingRetentionDays: 30,
          recordingWebhookUrl: webhookUrl,
          recordingWebhookSecretSealed: seal(
            credentialsKey,
            WEBHOOK_SECRET,
            recordingWebhookSecretContext(tenant.customerId),
          ),
        },
      });
    },
    {
      push: { credentialsKey },
      recording: { dataDir: work },
    },
  );
}, 60_000);

afterEach(() => {
  for (const phone of phones.splice(0)) phone.stop();
});

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await closeCallStack(stack);
  await new Promise((resolve) => webhook?.close(resolve));
  if (work) rmSync(work, { recursive: true, force: true });
}, 30_000);

/** The recording rows of a CDR, once there are `count` (bounded wait: the file is made after the call). */
async function recordingsOf(cdrId: string, count: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const rows = await stack.testDb.db.prisma.callRecording.findMany({ where: { cdrId } });
    if (rows.length >= count) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no recording for CDR ${cdrId}`);
}

describeOnEngine(onEngine('call recording'), { timeout: 90_000 }, () => {
  it('records baresip calling linphonec: one stereo WAV, caller left and callee right, linked to the CDR, webhook signed', async () => {
    const registrar = stack.sipAddress;
    const alice = await startBaresip(
      { user: 'alice', domain: DOMAIN, password: 'alice-secret', registrar },
      { play: join(work, 'alice.wav') },
    );
    phones.push(alice);
    const bob = await startLinphonec(
      { user: 'bob', domain: DOMAIN, password: 'bob-secret', registrar },
      { play: join(work, 'bob.wav') },
    );
    phones.push(bob);
    await untilBound(stack, 'alice', alice, 'baresip');
    await untilBound(stack, 'bob', bob, 'linphone');

    const before = await stack.testDb.db.prisma.cdr.count();
    alice.dial(`sip:bob@${DOMAIN}`);
    await Promise.all([alice.waitFor('established'), bob.waitFor('established')]);
    await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
    alice.hangup();
    await Promise.all([alice.waitFor('closed'), bob.waitFor('closed')]);
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({ disposition: 'answered' });

    const [recording] = await recordingsOf(cdr.id, 1);
    expect(recording).toMatchObject({ customerId: stack.tenant.customerId, cdrId: cdr.id });
    const file = join(work, 'recordings', 'calls', recording?.filePath ?? '');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBe(recording?.sizeBytes);
    expect(recording?.durationMs).toBeGreaterThanOrEqual((TALK_SECONDS - 1) * 1000);
    expectTone(file, ALICE_TONE, BOB_TONE, { channel: 0 });
    expectTone(file, BOB_TONE, ALICE_TONE, { channel: 1 });

    for (let attempt = 0; attempt < 50 && received.length === 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(1);
    // rtpengine's capture is removed once the file is made (before the webhook is told).
    expect(await findCallCaptures(join(work, 'recordings'), cdr.callId)).toEqual([]);
    const hook = received[0]!;
    const payload = JSON.parse(hook.body) as Record<string, unknown>;
    expect(payload).toMatchObject({
      event: 'recording.ready',
      recordingId: recording?.id,
      cdrId: cdr.id,
      customerId: stack.tenant.customerId,
      durationMs: recording?.durationMs,
      audioPath: `/api/v1/recordings/${recording?.id}/audio`,
    });
    const timestamp = String(hook.headers['x-switchboard-timestamp']);
    const expected = createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.${hook.body}`).digest('hex');
    expect(hook.headers['x-switchboard-signature']).toBe(`sha256=${expected}`);

    // Retention: nothing is due at 30 days; 31 days later the row and the file are gone.
    const log = pino({ level: 'silent' });
    const storage = new LocalStorage(join(work, 'recordings', 'calls'));
    expect(await deleteExpiredRecordings(stack.testDb.db.prisma, storage, log)).toBe(0);
    const later = new Date(Date.now() + 31 * 86_400_000);
    expect(await deleteExpiredRecordings(stack.testDb.db.prisma, storage, log, later)).toBe(1);
    expect(existsSync(file)).toBe(false);
    expect(await stack.testDb.db.prisma.callRecording.count({ where: { cdrId: cdr.id } })).toBe(0);
  });

  it('records a call between two Opus-only baresips: Opus decoded, caller left and callee right', async () => {
    const registrar = stack.sipAddress;
    const alice = await startBaresip(
      { user: 'alice', domain: DOMAIN, password: 'alice-secret', registrar },
      { play: join(work, 'alice.wav'), codecs: ['opus'] },
    );
    phones.push(alice);
    const bob = await startBaresip(
      { user: 'bob', domain: DOMAIN, password: 'bob-secret', registrar },
      { play: join(work, 'bob.wav'), codecs: ['opus'] },
    );
    phones.push(bob);
    await untilBound(stack, 'alice', alice, 'baresip');
    await untilBound(stack, 'bob', bob, 'baresip');

    // Neither phone loads a G.711 module: the call can only be set up in Opus.
    const before = await stack.testDb.db.prisma.cdr.count();
    alice.dial(`sip:bob@${DOMAIN}`);
    await Promise.all([alice.waitFor('established'), bob.waitFor('established')]);
    await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
    alice.hangup();
    await Promise.all([alice.waitFor('closed'), bob.waitFor('closed')]);
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({ disposition: 'answered' });

    const [recording] = await recordingsOf(cdr.id, 1);
    const file = join(work, 'recordings', 'calls', recording?.filePath ?? '');
    expect(existsSync(file)).toBe(true);
    expect(recording?.durationMs).toBeGreaterThanOrEqual((TALK_SECONDS - 1) * 1000);
    expectTone(file, ALICE_TONE, BOB_TONE, { channel: 0 });
    expectTone(file, BOB_TONE, ALICE_TONE, { channel: 1 });
  });
});
