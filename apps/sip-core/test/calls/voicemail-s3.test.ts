import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Settings } from '@switchboard/config';
import { hashPassword } from '@switchboard/db';
import { S3Storage, STORAGE_AREAS } from '@switchboard/storage';
import {
  type CallingSoftphone,
  readWav,
  S3_TEST_CREDENTIALS,
  type S3TestServer,
  startBaresip,
  startS3Server,
  startSmtpServer,
  type TestSmtpServer,
  writeToneWav,
} from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { operatorApi, type TestApi } from '../support/api.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { promptSeconds, toneSeconds, waitFor } from './support/audio.ts';
import { type CallStack, DOMAIN, startCallStack, untilBound } from './support/stack.ts';
import { listenThenDelete } from './support/voicemail.ts';

/**
 * Voicemail with object storage set (S3_*), through engine + sip-core + rtpengine + PostgreSQL with real
 * peers and a real S3-compatible server (s3rver, verifying SigV4): bob's uploaded greeting (1000 Hz) is in
 * the bucket and alice hears it; the 440 Hz message she leaves lands in the bucket (not under DATA_DIR),
 * is e-mailed with the WAV attached, and the API's audio route serves it from the bucket. Bob listens from
 * his phone (the tone reaches it) and deletes it: the object is gone; no spooled copy is left behind. A
 * greeting the bucket does not have gives the default one, and the message is still taken.
 */

const TONE = 440;
const GREETING_TONE = 1000;
const GREETING_SECONDS = 2;
const MESSAGE_SECONDS = 5;
const PIN = '2468';
const GREETING = 'bob-greeting.wav';
const OPERATOR = { email: 'operator@example.test', password: 'operator-password-1' };

let stack: CallStack;
let smtp: TestSmtpServer;
let server: S3TestServer;
let s3: S3Settings;
let dataDir: string;
let api: TestApi;
let token: string;
const phones: CallingSoftphone[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer();
  server = await startS3Server();
  s3 = {
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket: server.bucket,
    ...S3_TEST_CREDENTIALS,
    prefix: 'pbx/',
    forcePathStyle: true,
  };
  dataDir = mkdtempSync(join(tmpdir(), 'sipcore-voicemail-s3-'));
  writeToneWav(join(dataDir, 'tone.wav'), TONE, 60);
  writeToneWav(join(dataDir, 'silence.wav'), 0, 60);
  // The greeting as the API stores it after converting an upload: 8 kHz mono WAV, in the bucket.
  const greeting = join(dataDir, 'greeting.wav');
  writeToneWav(greeting, GREETING_TONE, GREETING_SECONDS);
  await new S3Storage(s3, STORAGE_AREAS.voicemailGreetings).putFile(GREETING, greeting);
  rmSync(greeting);
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    { ringTimeout: 10 },
    async (db, _tenant, subscribers) => {
      const bob = subscribers.get('bob') ?? '';
      await db.db.prisma.voicemailBox.create({
        data: {
          subscriberId: bob,
          pinHash: await hashPassword(PIN),
          email: 'bob@example.test',
          maxMessageSeconds: 30,
          greeting: GREETING,
        },
      });
      await db.db.prisma.callForward.create({
        data: {
          subscriberId: bob,
          type: 'cfna',
          destinations: { create: [{ position: 1, kind: 'voicemail', destination: '' }] },
        },
      });
    },
    {
      voicemail: {
        dataDir,
        objectStorage: s3,
        smtpUrl: smtp.url,
        mailFrom: 'Voicemail <voicemail@example.test>',
      },
    },
  );
  await stack.sipCore.voicemail?.promptsReady;
  ({ api, token } = await operatorApi(stack.testDb.db.prisma, pino({ level: 'silent' }), OPERATOR, {
    dataDir,
    objectStorage: s3,
  }));
}, 180_000);

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await api?.close();
  await stack?.close();
  await smtp?.close();
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function phone(user: string, password: string, play: string): Promise<CallingSoftphone> {
  const softphone = await startBaresip(
    { user, domain: DOMAIN, password, registrar: stack.sipAddress },
    { play },
  );
  phones.push(softphone);
  await untilBound(stack, user, softphone);
  return softphone;
}

const spooled = () =>
  existsSync(join(dataDir, 'voicemail', 'spool')) ? readdirSync(join(dataDir, 'voicemail', 'spool')) : [];

describeOnEngine(
  onEngine('voicemail in object storage: deposit, e-mail, API, retrieval'),
  { timeout: 240_000 },
  () => {
    it("the greeting comes from the bucket, the message goes there, the API serves it, bob's delete removes it", async () => {
      const prisma = stack.testDb.db.prisma;
      const bobId = stack.subscribers.get('bob') ?? '';

      const alice = await phone('alice', 'alice-secret', join(dataDir, 'tone.wav'));
      alice.dial(`sip:bob@${DOMAIN}`);
      await alice.waitFor('established', 20_000);
      await sleep(GREETING_SECONDS * 1000 + 300 + MESSAGE_SECONDS * 1000);
      alice.hangup();
      await alice.waitFor('closed');
      // Alice heard bob's greeting, fetched from the bucket.
      expect(toneSeconds(readWav(alice.recording()), GREETING_TONE)).toBeGreaterThanOrEqual(
        GREETING_SECONDS - 1,
      );

      const message = await waitFor(
        'the stored message',
        async () =>
          (await prisma.voicemailMessage.findFirst({ where: { subscriberId: bobId } })) ?? undefined,
      );
      expect(message.durationMs).toBeGreaterThanOrEqual((MESSAGE_SECONDS - 1) * 1000);
      // In the bucket, not in the data directory.
      expect(await server.keys()).toContain(`pbx/voicemail/messages/${message.file}`);
      expect(existsSync(join(dataDir, 'voicemail', 'messages', message.file))).toBe(false);

      // E-mail with the recording attached; the spooled copy is removed once it is out.
      const mail = await smtp.waitFor('bob@example.test', 'New voicemail', 20_000);
      const attachment = mail.attachments.find((a) => a.contentType === 'audio/wav');
      const attached = join(dataDir, 'attached.wav');
      writeFileSync(attached, attachment?.content ?? Buffer.alloc(0));
      expect(toneSeconds(readWav(attached), TONE)).toBeGreaterThanOrEqual(MESSAGE_SECONDS - 1);
      await waitFor('the spool emptied', async () => (spooled().length === 0 ? true : undefined));

      // The API's audio route streams it from the bucket.
      const audio = await api.inject({
        method: 'GET',
        url: `/api/v1/voicemails/${message.id}/audio`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(audio.statusCode, audio.body).toBe(200);
      const served = join(dataDir, 'served.wav');
      writeFileSync(served, audio.rawPayload);
      expect(toneSeconds(readWav(served), TONE)).toBeGreaterThanOrEqual(MESSAGE_SECONDS - 1);

      // Retrieval from bob's own phone: PIN, 1 listen (a copy fetched from the bucket), 7 delete.
      alice.stop();
      const bob = await phone('bob', 'bob-secret', join(dataDir, 'silence.wav'));
      await listenThenDelete(bob, { prisma, dataDir, pin: PIN, messageId: message.id, ownerId: bobId });
      expect(toneSeconds(readWav(bob.recording()), TONE)).toBeGreaterThanOrEqual(MESSAGE_SECONDS - 2);
      expect(await server.keys()).not.toContain(`pbx/voicemail/messages/${message.file}`);
      expect(await server.keys()).toContain(`pbx/voicemail/greetings/${GREETING}`);
      expect(spooled()).toEqual([]);
    });

    it('a greeting missing from the bucket gives the default greeting, and the message is still taken', async () => {
      const prisma = stack.testDb.db.prisma;
      const bobId = stack.subscribers.get('bob') ?? '';
      for (const p of phones.splice(0)) p.stop();
      // Bob's phone is gone: its binding too, so that the call goes to his box without ringing it.
      const aor = `sip:bob@${DOMAIN}`;
      for (const binding of stack.sipCore.location.lookup(aor))
        await stack.sipCore.location.remove(aor, binding.bindingKey);
      await prisma.voicemailBox.update({
        where: { subscriberId: bobId },
        data: { greeting: 'not-there.wav' },
      });
      const alice = await phone('alice', 'alice-secret', join(dataDir, 'tone.wav'));
      alice.dial(`sip:bob@${DOMAIN}`);
      await alice.waitFor('established', 20_000);
      await sleep((await promptSeconds(dataDir, 'vm-unavailable')) * 1000 + 300 + 3000);
      alice.hangup();
      await alice.waitFor('closed');
      expect(toneSeconds(readWav(alice.recording()), GREETING_TONE)).toBe(0);
      const message = await waitFor(
        'the message left after the default greeting',
        async () =>
          (await prisma.voicemailMessage.findFirst({ where: { subscriberId: bobId } })) ?? undefined,
      );
      expect(message.durationMs).toBeGreaterThanOrEqual(2000);
      expect(await server.keys()).toContain(`pbx/voicemail/messages/${message.file}`);
    });
  },
);
