import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALL_CONTROL_CHANNEL, hashPassword } from '@switchboard/db';
import {
  allocatePort,
  type CallingSoftphone,
  expectSippOk,
  type PcmAudio,
  readWav,
  type SippRun,
  sippPcap,
  startBaresip,
  startLinphonec,
  startSipp,
  writeToneWav,
} from '@switchboard/testkit';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { toneSeconds, waitFor } from './support/audio.ts';
import { runSipp } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
  untilBound,
} from './support/stack.ts';

/**
 * Phones that signal DTMF as SIP INFO, callers without G.711, and a hunt group whose members are all
 * busy, through engine + sip-core + a real rtpengine + PostgreSQL:
 * - bob (sipp) dials *98 and sends his PIN and `#` as INFO (application/dtmf-relay and application/dtmf),
 *   one INFO of another type (415), then `7`: the message row and its file are gone;
 * - bob on linphonec with `use_info` (liblinphone sends its keys as INFO application/dtmf-relay, no
 *   RFC 4733) dials *98 and types PIN, `#` and `7`: the message is gone;
 * - alice (sipp, PCMA from sipp's g711a.pcap) leaves bob a message and ends it with an INFO `#`: the
 *   message is stored and the platform hangs up (the deposit ended with the key, not with the call);
 * - alice (sipp) calls the attendant `main` and sends, in the early dialog of its greeting, an INFO of
 *   another type (415) and INFO `1`: the `sales` group's member answers, the CDR names `sales`;
 * - alice on a baresip that has only Opus leaves bob a message: the relay transcodes towards the
 *   endpoint, the stored WAV holds her 440 Hz tone;
 * - alice (baresip) calls the group `support`, whose one member answers 486 and whose no-answer
 *   destination is bob's box: she hears the busy greeting (1400 Hz), not the unavailable one (600 Hz);
 *   the same for the group `team`, whose first member is in a call of its own and the second answers 486.
 */

const TEMPLATE = fileURLToPath(new URL('../sipp/voicemail/uac-info-keys.xml', import.meta.url));
const PIN = '1357';
const UNAVAILABLE_HZ = 600;
const BUSY_HZ = 1400;
const ALICE_HZ = 440;

let stack: CallStack;
let dataDir: string;
const phones: CallingSoftphone[] = [];
const ports: Record<string, number> = {};
const sub = (name: string): string => stack.subscribers.get(name) ?? '';
const greetings = () => join(dataDir, 'voicemail', 'greetings');
const messagesDir = () => join(dataDir, 'voicemail', 'messages');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sipcore-vm-info-'));
  mkdirSync(greetings(), { recursive: true });
  writeToneWav(join(greetings(), 'bob-unavailable.wav'), UNAVAILABLE_HZ, 1);
  writeToneWav(join(greetings(), 'bob-busy.wav'), BUSY_HZ, 3);
  writeToneWav(join(dataDir, 'silence.wav'), 0, 60);
  writeToneWav(join(dataDir, 'alice.wav'), ALICE_HZ, 60);
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret', s1: 's1-secret' },
    { ringTimeout: 10 },
    async (db, tenant, subscribers) => {
      const prisma = db.db.prisma;
      const id = (name: string): string => subscribers.get(name) ?? '';
      await prisma.voicemailBox.create({
        data: {
          subscriberId: id('bob'),
          pinHash: await hashPassword(PIN),
          greeting: 'bob-unavailable.wav',
          busyGreeting: 'bob-busy.wav',
        },
      });
      await prisma.callForward.create({
        data: {
          subscriberId: id('bob'),
          type: 'cfna',
          destinations: { create: [{ position: 1, kind: 'voicemail', destination: '' }] },
        },
      });
      const sales = await prisma.huntGroup.create({
        data: {
          customerId: tenant.customerId,
          domainId: tenant.domainId,
          username: 'sales',
          name: 'Sales',
          strategy: 'parallel',
          ringTimeout: 10,
          members: { create: [{ subscriberId: id('s1'), position: 0 }] },
        },
      });
      await prisma.huntGroup.create({
        data: {
          customerId: tenant.customerId,
          domainId: tenant.domainId,
          username: 'support',
          name: 'Support',
          strategy: 'sequential',
          ringTimeout: 5,
          noAnswerKind: 'voicemail',
          noAnswerDestination: 'bob',
          members: { create: [{ subscriberId: id('carol'), position: 0 }] },
        },
      });
      // s1 is in a call of its own (skipped as busy), carol answers 486.
      await prisma.huntGroup.create({
        data: {
          customerId: tenant.customerId,
          domainId: tenant.domainId,
          username: 'team',
          name: 'Team',
          strategy: 'sequential',
          ringTimeout: 5,
          noAnswerKind: 'voicemail',
          noAnswerDestination: 'bob',
          members: {
            create: [
              { subscriberId: id('s1'), position: 0 },
              { subscriberId: id('carol'), position: 1 },
            ],
          },
        },
      });
      await prisma.autoAttendant.create({
        data: {
          customerId: tenant.customerId,
          domainId: tenant.domainId,
          username: 'main',
          name: 'Main line',
          greetingText: 'Welcome. For sales press one.',
          digitTimeout: 10,
          maxReplays: 0,
          options: { create: [{ digit: '1', kind: 'hunt_group', target: sales.id }] },
        },
      });
    },
    { voicemail: { dataDir } },
  );
  await stack.sipCore.voicemail?.promptsReady;
  for (const user of ['carol', 's1']) ports[user] = await registerWithSipp(stack, user, `${user}-secret`);
}, 180_000);

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await closeCallStack(stack);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** One INFO carrying a key; `early`: in the early dialog of a 183 (no route set yet). */
let cseq = 3;
function info(type: string, body: string[], options: { early?: boolean; expect?: number } = {}): string {
  const uri = options.early ? 'sip:[field3]@[field2]' : '[next_url]';
  return `
  <send retrans="500">
    <![CDATA[
      INFO ${uri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[field2]>;tag=[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: ${cseq++} INFO${options.early ? '' : '\n      [routes]'}
      Max-Forwards: 70
      Content-Type: ${type}
      Content-Length: [len]

      ${body.join('\n      ')}
    ]]>
  </send>
  <recv response="${options.expect ?? 200}" />`;
}

const relayKey = (key: string, early = false) =>
  info('application/dtmf-relay', [`Signal=${key}`, 'Duration=160'], { early });
const dtmfKey = (key: string) => info('application/dtmf', [key]);
const pause = (ms: number) => `<pause milliseconds="${ms}" />`;

function bye(): string {
  return `
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[field2]>;tag=[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: ${cseq++} BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" />`;
}

/** The platform ends the call: its BYE answered 200. */
const byeFromPlatform = `
  <recv request="BYE" />
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>`;

/** `caller` calls `callee` with the template filled as the case needs; its sipp must succeed. */
async function callWithInfo(
  name: string,
  caller: string,
  callee: string,
  fill: (parts: { early: string[]; answered: string[] }) => void,
  others: SippRun[] = [],
) {
  cseq = 3;
  const parts = { early: [] as string[], answered: [] as string[] };
  fill(parts);
  const file = join(dataDir, `${name}.xml`);
  writeFileSync(
    file,
    readFileSync(TEMPLATE, 'utf8')
      .replaceAll('@EARLY@', parts.early.join('\n'))
      .replaceAll('@ANSWERED@', parts.answered.join('\n')),
  );
  await Promise.all(others.map((o) => o.listening()));
  const before = await stack.testDb.db.prisma.cdr.count();
  const run = startSipp({
    scenario: file,
    port: await allocatePort({ min: 18000, max: 18999 }),
    remote: stack.sipAddress,
    fields: callFields(caller, `${caller}-secret`, callee),
    authUri: `${callee}@${DOMAIN}`,
    timeoutS: 60,
    extraArgs: ['-mp', String(await allocatePort())],
  });
  const [result, ...otherResults] = await Promise.all([run.done, ...others.map((o) => o.done)]);
  expectSippOk(result, name);
  otherResults.forEach((r, i) => {
    expectSippOk(r, `${name}: callee ${i}`);
  });
  return completedCdr(stack, before);
}

async function baresip(user: string, play: string, codecs?: Array<'g711' | 'opus'>) {
  const phone = await startBaresip(
    { user, domain: DOMAIN, password: `${user}-secret`, registrar: stack.sipAddress },
    { play, ...(codecs ? { codecs } : {}) },
  );
  phones.push(phone);
  await untilBound(stack, user, phone, 'baresip');
  return phone;
}

/** alice (baresip, silence) calls `group` while carol answers 486; what she heard. */
async function greetingOfBusyGroup(group: string): Promise<PcmAudio> {
  const carol = runSipp({ scenario: 'uas-busy.xml', port: ports.carol ?? 0, timeoutS: 40 });
  await carol.listening();
  const alice = await baresip('alice', join(dataDir, 'silence.wav'));
  alice.dial(`sip:${group}@${DOMAIN}`);
  await alice.waitFor('established', 30_000);
  await sleep(4000);
  alice.hangup();
  await alice.waitFor('closed');
  const heard = readWav(alice.recording());
  alice.stop();
  expectSippOk(await carol.done, 'carol (uas-busy)');
  return heard;
}

describeOnEngine(
  onEngine('voicemail and attendant: SIP INFO keys, transcoding, busy group'),
  { timeout: 120_000 },
  () => {
    it('*98 by SIP INFO: the PIN, `#`, a 415 for another body, and 7 deletes the message', async () => {
      const prisma = stack.testDb.db.prisma;
      writeToneWav(join(messagesDir(), 'bob-seeded.wav'), ALICE_HZ, 2);
      const message = await prisma.voicemailMessage.create({
        data: {
          subscriberId: sub('bob'),
          customerId: stack.tenant.customerId,
          caller: `sip:alice@${DOMAIN}`,
          durationMs: 2000,
          file: 'bob-seeded.wav',
        },
      });
      await callWithInfo('retrieve', 'bob', '*98', ({ answered }) => {
        answered.push(
          pause(1000),
          ...[...PIN].map((key, i) => (i % 2 === 0 ? relayKey(key) : dtmfKey(key))),
          dtmfKey('#'),
          info('text/plain', ['7'], { expect: 415 }),
          pause(500),
          dtmfKey('7'),
          pause(1500),
          bye(),
        );
      });
      await waitFor('the message deleted', async () =>
        (await prisma.voicemailMessage.findUnique({ where: { id: message.id } })) ? undefined : true,
      );
      expect(existsSync(join(messagesDir(), 'bob-seeded.wav'))).toBe(false);
    });

    it('a message ended with an INFO `#`: stored, and the platform hangs up', async () => {
      const prisma = stack.testDb.db.prisma;
      const before = await prisma.voicemailMessage.count({ where: { subscriberId: sub('bob') } });
      const cdr = await callWithInfo('deposit', 'alice', 'bob', ({ answered }) => {
        answered.push(
          `<nop><action><exec play_pcap_audio="${sippPcap('g711a.pcap')}" /></action></nop>`,
          // The 1 s greeting and the beep, then about three seconds of sipp's audio before the key.
          pause(4500),
          relayKey('#'),
          byeFromPlatform,
        );
      });
      expect(cdr).toMatchObject({ disposition: 'answered', calleeSubscriberId: sub('bob') });
      const messages = await prisma.voicemailMessage.findMany({ where: { subscriberId: sub('bob') } });
      expect(messages).toHaveLength(before + 1);
      expect(messages[0]?.durationMs).toBeGreaterThanOrEqual(1000);
    });

    it('the attendant: INFO 1 in the early dialog of its greeting reaches the sales group (another body: 415)', async () => {
      const s1 = runSipp({ scenario: 'uas-answer.xml', port: ports.s1 ?? 0, timeoutS: 40 });
      const cdr = await callWithInfo(
        'attendant',
        'alice',
        'main',
        ({ early, answered }) => {
          early.push(
            '<recv response="183" />',
            pause(1000),
            info('text/plain', ['2'], { early: true, expect: 415 }),
            relayKey('1', true),
          );
          answered.push(pause(500), bye());
        },
        [s1],
      );
      expect(cdr).toMatchObject({
        disposition: 'answered',
        calleeDialled: `sip:main@${DOMAIN}`,
        calleeRouted: `sip:sales@${DOMAIN}`,
        calleeSubscriberId: sub('s1'),
      });
    });

    it('an Opus-only caller leaves a message: the relay transcodes to G.711, the WAV holds her tone', async () => {
      const prisma = stack.testDb.db.prisma;
      const known = new Set(
        (await prisma.voicemailMessage.findMany({ where: { subscriberId: sub('bob') } })).map((m) => m.id),
      );
      const alice = await baresip('alice', join(dataDir, 'alice.wav'), ['opus']);
      alice.dial(`sip:bob@${DOMAIN}`);
      await alice.waitFor('established', 30_000);
      // The 1 s greeting and the beep, then five seconds of her tone.
      await sleep(6500);
      alice.hangup();
      await alice.waitFor('closed');
      alice.stop();
      const message = await waitFor('the Opus caller’s message', async () =>
        (await prisma.voicemailMessage.findMany({ where: { subscriberId: sub('bob') } })).find(
          (m) => !known.has(m.id),
        ),
      );
      const audio = readWav(join(messagesDir(), message.file));
      expect(toneSeconds(audio, ALICE_HZ)).toBeGreaterThanOrEqual(3);
    });

    it('a group whose every member is busy (486) sends the caller to the busy greeting', async () => {
      const heard = await greetingOfBusyGroup('support');
      expect(toneSeconds(heard, BUSY_HZ)).toBeGreaterThanOrEqual(2);
      expect(toneSeconds(heard, UNAVAILABLE_HZ)).toBe(0);
    });

    it('a member in a call of its own counts as busy: with the other answering 486, the busy greeting', async () => {
      // alice calls s1 directly; s1 answers and the call stays up until the API hangs it up.
      const s1 = runSipp({ scenario: 'uas-answer.xml', port: ports.s1 ?? 0, timeoutS: 40 });
      await s1.listening();
      const direct = runSipp({
        scenario: 'uac-call-wait-bye.xml',
        port: await allocatePort({ min: 18000, max: 18999 }),
        remote: stack.sipAddress,
        fields: callFields('alice', 'alice-secret', 's1'),
        authUri: `s1@${DOMAIN}`,
        timeoutS: 40,
      });
      await vi.waitFor(
        () => {
          const up = stack.sipCore.activeCalls().find((c) => c.calleeSubscriberId === sub('s1'));
          if (up?.state !== 'answered') throw new Error('the call to s1 is not up');
        },
        { timeout: 10_000, interval: 50 },
      );
      const heard = await greetingOfBusyGroup('team');
      const callId = stack.sipCore.activeCalls().find((c) => c.calleeSubscriberId === sub('s1'))?.callId;
      await stack.testDb.db.prisma
        .$executeRaw`SELECT pg_notify(${CALL_CONTROL_CHANNEL}, ${JSON.stringify({ callId })})`;
      expectSippOk(await direct.done, 'alice (uac-call-wait-bye)');
      expectSippOk(await s1.done, 's1 (uas-answer)');
      expect(toneSeconds(heard, BUSY_HZ)).toBeGreaterThanOrEqual(2);
      expect(toneSeconds(heard, UNAVAILABLE_HZ)).toBe(0);
    });

    // Last: bob's linphonec stays in the location, so calls to bob would ring it rather than reach CFNA.
    it('a real phone sending INFO (linphonec, use_info): *98, PIN, # and 7 delete the message', async () => {
      const prisma = stack.testDb.db.prisma;
      // The seeded message is the only one, so it is the one `7` deletes.
      await prisma.voicemailMessage.deleteMany({ where: { subscriberId: sub('bob') } });
      writeToneWav(join(messagesDir(), 'bob-seeded-2.wav'), ALICE_HZ, 2);
      const message = await prisma.voicemailMessage.create({
        data: {
          subscriberId: sub('bob'),
          customerId: stack.tenant.customerId,
          caller: `sip:alice@${DOMAIN}`,
          durationMs: 2000,
          file: 'bob-seeded-2.wav',
        },
      });
      const bob = await startLinphonec(
        { user: 'bob', domain: DOMAIN, password: 'bob-secret', registrar: stack.sipAddress },
        { play: join(dataDir, 'silence.wav'), dtmf: 'info' },
      );
      phones.push(bob);
      await untilBound(stack, 'bob', bob);
      bob.dial(`sip:*98@${DOMAIN}`);
      await bob.waitFor('established', 30_000);
      await sleep(1000);
      await bob.sendDigits?.(`${PIN}#7`);
      await waitFor('the message deleted', async () =>
        (await prisma.voicemailMessage.findUnique({ where: { id: message.id } })) ? undefined : true,
      );
      bob.hangup();
      await bob.waitFor('closed');
      bob.stop();
      expect(existsSync(join(messagesDir(), 'bob-seeded-2.wav'))).toBe(false);
    });
  },
);
