import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '@switchboard/db';
import {
  type CallingSoftphone,
  readWav,
  startBaresip,
  startSmtpServer,
  type TestSmtpServer,
  writeToneWav,
} from '@switchboard/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { promptSeconds, toneSeconds, waitFor } from './support/audio.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, callFields, DOMAIN, startCallStack, untilBound } from './support/stack.ts';
import { listenThenDelete } from './support/voicemail.ts';

/**
 * Voicemail through engine + sip-core + rtpengine + PostgreSQL with real peers: alice (baresip) calls
 * bob, who has nothing registered and a CFNA to voicemail; she is answered by the media endpoint and
 * leaves 5 s of a 440 Hz tone. The message is stored (WAV and row), e-mailed with the WAV attached to
 * a local SMTP server, and bob's MWI watcher (sipp) gets `Messages-Waiting: yes`. Then bob dials *98
 * from a baresip, enters his PIN as RFC 4733 digits, listens (the tone reaches his phone), deletes,
 * and the watcher gets `no` again.
 */

const TONE = 440;
const MESSAGE_SECONDS = 5;
const PIN = '2468';
const SCENARIOS = fileURLToPath(new URL('../sipp/voicemail/', import.meta.url));

let stack: CallStack;
let smtp: TestSmtpServer;
let dataDir: string;
const phones: CallingSoftphone[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer();
  dataDir = mkdtempSync(join(tmpdir(), 'sipcore-voicemail-'));
  writeToneWav(join(dataDir, 'tone.wav'), TONE, 60);
  writeToneWav(join(dataDir, 'silence.wav'), 0, 60);
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret' },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const bob = subscribers.get('bob') ?? '';
      await db.db.prisma.voicemailBox.create({
        data: {
          subscriberId: bob,
          pinHash: await hashPassword(PIN),
          email: 'bob@example.test',
          maxMessageSeconds: 30,
        },
      });
      await db.db.prisma.callForward.create({
        data: {
          subscriberId: bob,
          type: 'cfna',
          destinations: { create: [{ position: 1, kind: 'voicemail', destination: '' }] },
        },
      });
      // Nobody answers the group (carol has nothing registered): bob's box takes the call.
      await db.db.prisma.huntGroup.create({
        data: {
          customerId: tenant.customerId,
          domainId: tenant.domainId,
          username: 'support',
          name: 'Support',
          strategy: 'sequential',
          ringTimeout: 2,
          noAnswerKind: 'voicemail',
          noAnswerDestination: 'bob',
          members: { create: [{ subscriberId: subscribers.get('carol') ?? '', position: 0 }] },
        },
      });
    },
    {
      voicemail: { dataDir, smtpUrl: smtp.url, mailFrom: 'Voicemail <voicemail@example.test>' },
    },
  );
  await stack.sipCore.voicemail?.promptsReady;
}, 180_000);

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await stack?.close();
  await smtp?.close();
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

describeOnEngine(onEngine('voicemail: deposit, e-mail, MWI and retrieval'), { timeout: 240_000 }, () => {
  it('a CFNA call leaves a message; it is mailed, MWI says yes; bob listens and deletes it; MWI says no', async () => {
    const prisma = stack.testDb.db.prisma;
    const bobId = stack.subscribers.get('bob') ?? '';
    const watcher = runSipp({
      scenario: join(SCENARIOS, 'uac-subscribe-mwi.xml'),
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('bob', 'bob-secret', 'bob'),
      authUri: `bob@${DOMAIN}`,
      timeoutS: 200,
    });
    await waitFor('the MWI subscription', async () =>
      stack.sipCore.presence.store.size === 1 ? true : undefined,
    );

    // Deposit: alice's tone for MESSAGE_SECONDS after the greeting and the beep.
    const alice = await phone('alice', 'alice-secret', join(dataDir, 'tone.wav'));
    alice.dial(`sip:bob@${DOMAIN}`);
    // The stack's first call (box read, first media session): as long a bound as the hunt-group call's.
    await alice.waitFor('established', 30_000);
    await sleep((await promptSeconds(dataDir, 'vm-unavailable')) * 1000 + 300 + MESSAGE_SECONDS * 1000);
    alice.hangup();
    await alice.waitFor('closed');

    const message = await waitFor(
      'the stored message',
      async () => (await prisma.voicemailMessage.findFirst({ where: { subscriberId: bobId } })) ?? undefined,
    );
    expect(message.caller).toBe(`sip:alice@${DOMAIN}`);
    expect(message.durationMs).toBeGreaterThanOrEqual((MESSAGE_SECONDS - 1) * 1000);
    expect(message.durationMs).toBeLessThanOrEqual((MESSAGE_SECONDS + 1) * 1000);
    const stored = readWav(join(dataDir, 'voicemail', 'messages', message.file));
    expect(toneSeconds(stored, TONE)).toBeGreaterThanOrEqual(MESSAGE_SECONDS - 1);

    // The CDR: answered by bob's voicemail through his CFNA.
    const cdr = await waitFor('the completed CDR', async () => {
      const row = await prisma.cdr.findFirst({
        where: { callerSubscriberId: stack.subscribers.get('alice') },
      });
      return row && row.sipReason !== IN_PROGRESS ? row : undefined;
    });
    expect(cdr).toMatchObject({ disposition: 'answered', calleeSubscriberId: bobId, forwardType: 'cfna' });

    // E-mail with the recording attached.
    const mail = await smtp.waitFor('bob@example.test', 'New voicemail', 20_000);
    expect(mail.text).toContain(`sip:alice@${DOMAIN}`);
    const attachment = mail.attachments.find((a) => a.contentType === 'audio/wav');
    expect(attachment?.content.length).toBeGreaterThan(8000 * 2 * (MESSAGE_SECONDS - 1));
    const attached = join(dataDir, 'attached.wav');
    writeFileSync(attached, attachment?.content ?? Buffer.alloc(0));
    expect(toneSeconds(readWav(attached), TONE)).toBeGreaterThanOrEqual(MESSAGE_SECONDS - 1);

    // Retrieval from bob's own phone: PIN, 1 listen, 7 delete.
    alice.stop();
    const bob = await phone('bob', 'bob-secret', join(dataDir, 'silence.wav'));
    await listenThenDelete(bob, { prisma, dataDir, pin: PIN, messageId: message.id, ownerId: bobId });
    expect(toneSeconds(readWav(bob.recording()), TONE)).toBeGreaterThanOrEqual(MESSAGE_SECONDS - 2);
    expect(() => readFileSync(join(dataDir, 'voicemail', 'messages', message.file))).toThrow();

    expectSippOk(await watcher.done, 'MWI watcher');
  });

  it("a hunt group nobody answers sends the call to its no-answer destination's voicemail", async () => {
    const prisma = stack.testDb.db.prisma;
    const bobId = stack.subscribers.get('bob') ?? '';
    for (const p of phones.splice(0)) p.stop();
    const alice = await phone('alice', 'alice-secret', join(dataDir, 'tone.wav'));
    alice.dial(`sip:support@${DOMAIN}`);
    await alice.waitFor('established', 30_000);
    await sleep((await promptSeconds(dataDir, 'vm-unavailable')) * 1000 + 300 + 3000);
    alice.hangup();
    await alice.waitFor('closed');
    const message = await waitFor(
      'the message left through the hunt group',
      async () => (await prisma.voicemailMessage.findFirst({ where: { subscriberId: bobId } })) ?? undefined,
    );
    expect(message.durationMs).toBeGreaterThanOrEqual(2000);
    expect(
      toneSeconds(readWav(join(dataDir, 'voicemail', 'messages', message.file)), TONE),
    ).toBeGreaterThanOrEqual(2);
  });
});
