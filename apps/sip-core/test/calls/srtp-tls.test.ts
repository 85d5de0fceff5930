import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CallingSoftphone,
  selfSignedCertificate,
  startBaresip,
  startLinphonec,
  writeToneWav,
} from '@switchboard/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { onEngine, skipOnEngine } from '../support/engine.ts';
import { expectTone } from './support/audio.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  completedCdr,
  DOMAIN,
  startCallStack,
  untilBound,
} from './support/stack.ts';

/**
 * Desk and soft phones over TLS with SDES-SRTP (RFC 4568), through engine + sip-core + rtpengine +
 * PostgreSQL: alice (baresip, `mediaenc=srtp-mand`) registers over TLS and her subscriber's SRTP policy
 * is mandatory; bob (linphonec) registers over UDP with plain RTP. Each call's ladder, as the engine
 * sent and received it, must show RTP/SAVP with a=crypto on alice's TLS leg and RTP/AVP without on
 * bob's, and each phone must hear the other's tone. carol, mandatory too, offers plain RTP from sipp
 * and is refused with 488.
 */

const ALICE_TONE = 440;
const BOB_TONE = 1000;
const TALK_SECONDS = 4;

let stack: CallStack;
let dir: string;
let caFile: string;
const phones: CallingSoftphone[] = [];

const UNSUPPORTED = 'the drachtio-server harness has no TLS listener';

beforeAll(async () => {
  if (skipOnEngine(UNSUPPORTED)) return;
  dir = mkdtempSync(join(tmpdir(), 'sipcore-srtp-'));
  const certificate = selfSignedCertificate();
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, certificate.cert);
  writeToneWav(join(dir, 'alice.wav'), ALICE_TONE, 60);
  writeToneWav(join(dir, 'bob.wav'), BOB_TONE, 60);
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret' },
    {},
    async (db, _tenant, subscribers) => {
      await db.db.prisma.subscriber.updateMany({
        where: { id: { in: [subscribers.get('alice')!, subscribers.get('carol')!] } },
        data: { srtp: 'mandatory' },
      });
    },
    {
      listeners: { transports: ['udp', 'tls'], tls: certificate },
    },
  );
}, 60_000);

afterEach(() => {
  for (const phone of phones.splice(0)) phone.stop();
});

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

async function startPhones(): Promise<{ alice: CallingSoftphone; bob: CallingSoftphone }> {
  await stack.testDb.db.prisma.registration.deleteMany({});
  await stack.sipCore.location.load();
  const alice = await startBaresip(
    {
      user: 'alice',
      domain: DOMAIN,
      password: 'alice-secret',
      registrar: `127.0.0.1:${stack.engine.port('tls')}`,
      transport: 'tls',
      mediaenc: 'srtp-mand',
      caFile,
    },
    { play: join(dir, 'alice.wav') },
  );
  phones.push(alice);
  const bob = await startLinphonec(
    { user: 'bob', domain: DOMAIN, password: 'bob-secret', registrar: stack.sipAddress },
    { play: join(dir, 'bob.wav') },
  );
  phones.push(bob);
  // The registrar records the transport the device registered over.
  expect((await untilBound(stack, 'alice', alice, 'baresip')).transport).toBe('tls');
  expect((await untilBound(stack, 'bob', bob, 'linphone')).transport).toBe('udp');
  return { alice, bob };
}

async function talk(caller: CallingSoftphone, callee: CallingSoftphone, calleeUser: string) {
  const before = await stack.testDb.db.prisma.cdr.count();
  caller.dial(`sip:${calleeUser}@${DOMAIN}`);
  await Promise.all([caller.waitFor('established'), callee.waitFor('established')]);
  await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
  caller.hangup();
  await Promise.all([caller.waitFor('closed'), callee.waitFor('closed')]);
  return completedCdr(stack, before);
}

interface Exchanged {
  transport: string;
  offer: string;
  answer: string;
}

const bodyOf = (message: string): string => message.slice(message.indexOf('\r\n\r\n') + 4);

/**
 * The offer and answer of one leg as they crossed the engine's socket: the last INVITE with SDP of
 * `callId` (the one after the digest challenge) and the 200 to it.
 */
function exchanged(callId: string): Exchanged {
  const capture = stack.engine.switchboard?.capture;
  if (!capture) throw new Error('the engine under test has no capture');
  const ladder = capture.ladder([callId]);
  const invites = ladder.filter((m) => m.startLine.startsWith('INVITE ') && bodyOf(m.message).includes('m='));
  const invite = invites.at(-1);
  const cseq = invite && /^CSeq:\s*(\d+)/im.exec(invite.message)?.[1];
  const ok = ladder.find(
    (m) =>
      m.startLine.startsWith('SIP/2.0 200') && new RegExp(`^CSeq:\\s*${cseq} INVITE`, 'im').test(m.message),
  );
  if (!invite || !ok)
    throw new Error(`no INVITE/200 with SDP for ${callId}:\n${ladder.map((m) => m.startLine).join('\n')}`);
  expect(ok.transport).toBe(invite.transport);
  return { transport: invite.transport, offer: bodyOf(invite.message), answer: bodyOf(ok.message) };
}

const mLine = (sdp: string): string => /^m=audio .*$/m.exec(sdp)?.[0] ?? '';

function expectSrtp(sdp: string): void {
  expect(mLine(sdp), sdp).toMatch(/^m=audio \d+ RTP\/SAVP /);
  expect(sdp).toMatch(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:/m);
}

function expectPlain(sdp: string): void {
  expect(mLine(sdp), sdp).toMatch(/^m=audio \d+ RTP\/AVP /);
  expect(sdp).not.toMatch(/^a=crypto:/m);
}

describe.skipIf(skipOnEngine(UNSUPPORTED))(
  onEngine('SIP over TLS with SDES-SRTP from real phones', UNSUPPORTED),
  { timeout: 90_000 },
  () => {
    it('baresip (TLS, SRTP mandatory) calls linphonec (UDP, plain RTP): SRTP on her leg only, tones both ways', async () => {
      const { alice, bob } = await startPhones();
      const cdr = await talk(alice, bob, 'bob');
      expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200 });
      const aLeg = exchanged(cdr.aLegId!);
      expect(aLeg.transport).toBe('tls');
      expectSrtp(aLeg.offer);
      expectSrtp(aLeg.answer);
      const bLeg = exchanged(cdr.bLegId!);
      expect(bLeg.transport).toBe('udp');
      expectPlain(bLeg.offer);
      expectPlain(bLeg.answer);
      expectTone(alice.recording(), BOB_TONE, ALICE_TONE);
      expectTone(bob.recording(), ALICE_TONE, BOB_TONE);
    });

    it('linphonec calls baresip: her phone is offered SRTP over the TLS connection she registered on', async () => {
      const { alice, bob } = await startPhones();
      const binding = stack.sipCore.location.lookup(`sip:alice@${DOMAIN}`)[0]!;
      const cdr = await talk(bob, alice, 'alice');
      expect(cdr).toMatchObject({ disposition: 'answered', sipCode: 200 });
      const aLeg = exchanged(cdr.aLegId!);
      expect(aLeg.transport).toBe('udp');
      expectPlain(aLeg.offer);
      expectPlain(aLeg.answer);
      const bLeg = exchanged(cdr.bLegId!);
      expect(bLeg.transport).toBe('tls');
      expectSrtp(bLeg.offer);
      expectSrtp(bLeg.answer);
      // Sent on her registration's flow (RFC 5626 §5.3): to the address and port it came from.
      const invite = stack.engine
        .switchboard!.capture.ladder([cdr.bLegId!])
        .find((m) => m.direction === 'out' && m.startLine.startsWith('INVITE '));
      expect(invite?.destination).toBe(`${binding.receivedAddress}:${binding.receivedPort}`);
      expectTone(alice.recording(), BOB_TONE, ALICE_TONE);
      expectTone(bob.recording(), ALICE_TONE, BOB_TONE);
    });

    it('a plain RTP offer from a subscriber with mandatory SRTP is refused with 488 and a Warning', async () => {
      const before = await stack.testDb.db.prisma.cdr.count();
      const run = runSipp({
        scenario: 'uac-call-srtp-required.xml',
        port: await allocatePort(),
        remote: stack.sipAddress,
        fields: callFields('carol', 'carol-secret', 'bob'),
        authUri: `bob@${DOMAIN}`,
        timeoutS: 20,
      });
      expectSippOk(await run.done, 'uac-call-srtp-required.xml');
      const cdr = await completedCdr(stack, before);
      expect(cdr).toMatchObject({ sipCode: 488, callerSubscriberId: stack.subscribers.get('carol') });
    });
  },
);
