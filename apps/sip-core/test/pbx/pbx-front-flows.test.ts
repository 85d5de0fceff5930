import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CallingSoftphone,
  type Softphone,
  selfSignedCertificate,
  startBaresip,
  startBaresipMessenger,
  writeToneWav,
} from '@switchboard/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { expectTone } from '../calls/support/audio.ts';
import { type CallStack, startCallStack } from '../calls/support/stack.ts';
import { onEngine, skipOnEngine } from '../support/engine.ts';
import { frontDomain } from './fronting.ts';
import { type KamailioPbx, startKamailioPbx } from './kamailio.ts';

/**
 * Fronting an upstream PBX (docs/sbc.md, "Fronting a PBX") with phones on other transports than UDP:
 * Kamailio (on UDP) is the PBX of pbx.test; alice's baresip registers through the platform over TLS
 * with SDES-SRTP (RFC 4568) mandatory, bob's over UDP with plain RTP. They call each other both ways
 * through the platform, Kamailio and the platform again: the PBX's INVITE for alice leaves on the TLS
 * connection she registered on (her flow, RFC 5626 §5.3), her leg is SRTP and bob's plain RTP, and
 * each phone hears the other's tone. The PBX sees neither phone's address. dave's baresip does the
 * same with bob over TCP. A restarted sip-core still opens the tokens the PBX holds; a MESSAGE goes
 * from a phone through the PBX to alice's TLS connection.
 */

const PBX_DOMAIN = 'pbx.test';
const PBX_ADDRESS = '127.0.0.43';
const ALICE_ADDRESS = '127.0.0.53';
const BOB_ADDRESS = '127.0.0.54';
const DAVE_ADDRESS = '127.0.0.55';
const DAVE_TONE = 700;
const ALICE_TONE = 440;
const BOB_TONE = 1000;
const TALK_SECONDS = 4;
const UNSUPPORTED = 'the drachtio-server harness has no TLS listener';

let stack: CallStack;
let pbx: KamailioPbx;
let dir: string;
let caFile: string;
const phones: Softphone[] = [];

beforeAll(async () => {
  if (skipOnEngine(UNSUPPORTED)) return;
  dir = mkdtempSync(join(tmpdir(), 'pbx-front-flows-'));
  const certificate = selfSignedCertificate();
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, certificate.cert);
  writeToneWav(join(dir, 'alice.wav'), ALICE_TONE, 60);
  writeToneWav(join(dir, 'bob.wav'), BOB_TONE, 60);
  writeToneWav(join(dir, 'dave.wav'), DAVE_TONE, 60);
  pbx = await startKamailioPbx(PBX_ADDRESS, '127.0.0.1', {
    [`alice@${PBX_DOMAIN}`]: 'alice-pbx-secret',
    [`bob@${PBX_DOMAIN}`]: 'bob-pbx-secret',
    [`carol@${PBX_DOMAIN}`]: 'carol-pbx-secret',
    [`dave@${PBX_DOMAIN}`]: 'dave-pbx-secret',
  });
  stack = await startCallStack(
    {},
    {},
    async (db) => {
      const prisma = db.db.prisma;
      await frontDomain(prisma, pbx, PBX_DOMAIN);
    },
    { listeners: { transports: ['udp', 'tcp', 'tls'], tls: certificate }, push: { dataDir: dir } },
  );
}, 90_000);

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await stack?.close();
  await pbx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** Bounded wait (20 s) until Kamailio's location lists `user` of pbx.test. */
async function untilRegisteredAtPbx(user: string, phone: Softphone): Promise<string> {
  for (let attempt = 0; attempt < 80; attempt++) {
    const dump = pbx.locations();
    if (dump.includes(`${user}@${PBX_DOMAIN}`) || new RegExp(`AoR: ${user}\\b`).test(dump)) return dump;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `${user} did not register at the PBX:\n${phone.output().slice(-3000)}\n${pbx.seen().join('\n')}`,
  );
}

/** Bounded wait (10 s) until Kamailio logged `count` requests that `match` (its log arrives through a pipe). */
async function untilSeen(match: (line: string) => boolean, count: number): Promise<string[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const lines = pbx.seen().filter(match);
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return pbx.seen().filter(match);
}

/** Bounded wait (10 s) until the CDRs after the first `before` rows number `count` and are complete. */
async function newCdrs(before: number, count: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const rows = await stack.testDb.db.prisma.cdr.findMany({ orderBy: { createdAt: 'asc' } });
    const fresh = rows.slice(before);
    if (fresh.length >= count && fresh.every((row) => row.sipReason !== IN_PROGRESS)) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the CDRs were not completed');
}

const bodyOf = (message: string): string => message.slice(message.indexOf('\r\n\r\n') + 4);
const mLine = (sdp: string): string => /^m=audio .*$/m.exec(sdp)?.[0] ?? '';

/** The INVITE with SDP the engine sent or received on the leg `callId`, and the 200 to it. */
function legOf(callId: string) {
  const ladder = stack.engine.switchboard!.capture.ladder([callId]);
  const invite = ladder
    .filter((m) => m.startLine.startsWith('INVITE ') && bodyOf(m.message).includes('m='))
    .at(-1);
  const ok = ladder.find(
    (m) => m.startLine.startsWith('SIP/2.0 200') && /^CSeq:\s*\d+ INVITE/im.test(m.message),
  );
  if (!invite || !ok)
    throw new Error(`no INVITE/200 for ${callId}:\n${ladder.map((m) => m.startLine).join('\n')}`);
  return { invite, offer: bodyOf(invite.message), answer: bodyOf(ok.message) };
}

function expectSrtp(sdp: string): void {
  expect(mLine(sdp), sdp).toMatch(/^m=audio \d+ RTP\/SAVP /);
  expect(sdp).toMatch(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:/m);
}

async function talk(caller: CallingSoftphone, callee: CallingSoftphone, calleeUser: string): Promise<void> {
  caller.dial(`sip:${calleeUser}@${PBX_DOMAIN}`);
  await Promise.all([caller.waitFor('established', 20_000), callee.waitFor('established', 20_000)]).catch(
    (error: unknown) => {
      throw new Error(`${String(error).slice(0, 600)}\nKamailio saw:\n${pbx.seen().join('\n')}`);
    },
  );
  await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
  caller.hangup();
  await Promise.all([caller.waitFor('closed'), callee.waitFor('closed')]);
}

describe.skipIf(skipOnEngine(UNSUPPORTED))(
  onEngine('fronting an upstream PBX: phones over TLS and UDP', UNSUPPORTED),
  { timeout: 150_000 },
  () => {
    let alice: CallingSoftphone;
    let bob: CallingSoftphone;

    it('a TLS phone with SRTP and a UDP phone call each other both ways through the PBX', async () => {
      alice = await startBaresip(
        {
          user: 'alice',
          domain: PBX_DOMAIN,
          password: 'alice-pbx-secret',
          registrar: `127.0.0.1:${stack.engine.port('tls')}`,
          transport: 'tls',
          mediaenc: 'srtp-mand',
          caFile,
          address: ALICE_ADDRESS,
        },
        { play: join(dir, 'alice.wav') },
      );
      phones.push(alice);
      bob = await startBaresip(
        {
          user: 'bob',
          domain: PBX_DOMAIN,
          password: 'bob-pbx-secret',
          registrar: stack.sipAddress,
          address: BOB_ADDRESS,
        },
        { play: join(dir, 'bob.wav') },
      );
      phones.push(bob);
      await untilRegisteredAtPbx('alice', alice);
      await untilRegisteredAtPbx('bob', bob);

      // alice (TLS, SRTP) calls bob (UDP): her leg SRTP, through the PBX and back to bob.
      let before = await stack.testDb.db.prisma.cdr.count();
      await talk(alice, bob, 'bob');
      expectTone(alice.recording(), BOB_TONE, ALICE_TONE);
      expectTone(bob.recording(), ALICE_TONE, BOB_TONE);
      let rows = await newCdrs(before, 3);
      const fromAlice = rows.find((row) => row.direction === 'outbound' && row.disposition === 'answered');
      expect(fromAlice, JSON.stringify(rows)).toBeDefined();
      const aliceOut = legOf(fromAlice!.aLegId!);
      expect(aliceOut.invite.transport).toBe('tls');
      expectSrtp(aliceOut.offer);
      expectSrtp(aliceOut.answer);

      // bob calls alice: the PBX's INVITE for her leaves on the TLS connection she registered on, SRTP.
      before = await stack.testDb.db.prisma.cdr.count();
      await talk(bob, alice, 'alice');
      expectTone(alice.recording(), BOB_TONE, ALICE_TONE);
      expectTone(bob.recording(), ALICE_TONE, BOB_TONE);
      rows = await newCdrs(before, 3);
      const toAlice = rows.find((row) => row.direction === 'inbound' && row.disposition === 'answered');
      expect(toAlice, JSON.stringify(rows)).toBeDefined();
      const aliceIn = legOf(toAlice!.bLegId!);
      expect(aliceIn.invite.transport).toBe('tls');
      expect(aliceIn.invite.direction).toBe('out');
      // Her flow: the TLS connection her own INVITE came in on (the engine opened none towards her).
      expect(aliceOut.invite.direction).toBe('in');
      expect(aliceIn.invite.destination).toBe(aliceOut.invite.source);
      expectSrtp(aliceIn.offer);
      expectSrtp(aliceIn.answer);

      for (const line of pbx.seen()) {
        expect(line).not.toContain(aliceOut.invite.source);
        expect(line).not.toContain(ALICE_ADDRESS);
        expect(line).not.toContain(BOB_ADDRESS);
      }
    });

    it('a TCP phone calls the UDP phone and is called back on its own connection', async () => {
      const dave = await startBaresip(
        {
          user: 'dave',
          domain: PBX_DOMAIN,
          password: 'dave-pbx-secret',
          registrar: `127.0.0.1:${stack.engine.port('tcp')}`,
          transport: 'tcp',
          address: DAVE_ADDRESS,
        },
        { play: join(dir, 'dave.wav') },
      );
      phones.push(dave);
      await untilRegisteredAtPbx('dave', dave);
      let before = await stack.testDb.db.prisma.cdr.count();
      await talk(dave, bob, 'bob');
      expectTone(dave.recording(), BOB_TONE, DAVE_TONE);
      expectTone(bob.recording(), DAVE_TONE, BOB_TONE);
      let rows = await newCdrs(before, 3);
      const fromDave = rows.find((row) => row.direction === 'outbound' && row.disposition === 'answered');
      const daveOut = legOf(fromDave!.aLegId!);
      expect(daveOut.invite.transport).toBe('tcp');
      expect(daveOut.invite.direction).toBe('in');

      before = await stack.testDb.db.prisma.cdr.count();
      await talk(bob, dave, 'dave');
      expectTone(dave.recording(), BOB_TONE, DAVE_TONE);
      expectTone(bob.recording(), DAVE_TONE, BOB_TONE);
      rows = await newCdrs(before, 3);
      const toDave = rows.find((row) => row.direction === 'inbound' && row.disposition === 'answered');
      const daveIn = legOf(toDave!.bLegId!);
      expect(daveIn.invite.transport).toBe('tcp');
      expect(daveIn.invite.direction).toBe('out');
      // The TCP connection dave's own INVITE came in on; plain RTP on his leg (not TLS).
      expect(daveIn.invite.destination).toBe(daveOut.invite.source);
      expect(mLine(daveIn.offer)).toMatch(/^m=audio \d+ RTP\/AVP /);
      for (const line of pbx.seen()) expect(line).not.toContain(DAVE_ADDRESS);
    });

    it('after a restart of sip-core the tokens the PBX holds still reach the phones', async () => {
      // A new sip-core (and a new digest secret) on the same engine, database and data directory: the
      // token key is the sealing key kept there, so the PBX's stored Path still opens.
      expect(stack.restartSipCore).toBeDefined();
      await stack.restartSipCore?.();
      const before = await stack.testDb.db.prisma.cdr.count();
      await talk(bob, alice, 'alice');
      expectTone(alice.recording(), BOB_TONE, ALICE_TONE);
      expectTone(bob.recording(), ALICE_TONE, BOB_TONE);
      const rows = await newCdrs(before, 2);
      expect(rows.map((row) => [row.direction, row.disposition])).toEqual(
        expect.arrayContaining([
          ['outbound', 'answered'],
          ['inbound', 'answered'],
        ]),
      );
    });

    it('relays a MESSAGE from a phone to the PBX and from the PBX to the TLS phone it is for', async () => {
      // carol (UDP) writes to alice: through us to Kamailio (its 407 answered end to end), and back
      // through us on alice's TLS connection, as Kamailio's lookup routes it by our Path.
      const carol = await startBaresipMessenger(
        { user: 'carol', domain: PBX_DOMAIN, password: 'carol-pbx-secret', registrar: stack.sipAddress },
        `sip:alice@${PBX_DOMAIN}`,
      );
      phones.push(carol);
      await untilRegisteredAtPbx('carol', carol);
      const text = `through the PBX ${Date.now()}`;
      carol.message(text);
      // Kamailio takes the second MESSAGE (with carol's credentials) and relays it to alice's Path.
      const messages = await untilSeen((line) => line.includes('PBX-SAW MESSAGE'), 2);
      expect(messages.length, messages.join('\n')).toBeGreaterThanOrEqual(2);
      expect(messages[0]).toContain('auth=[<null><null>]');
      expect(messages[1]).toMatch(/auth=\[(<null>)?Digest username="carol"/);
      // baresip shows a received message on no console here: the engine's capture shows it went out
      // on alice's TLS connection and she took it (a relayed MESSAGE keeps the PBX's Call-ID).
      const callId = /callid=(\S+)/.exec(messages[1]!)?.[1] ?? '';
      const delivered = () => {
        const ladder = stack.engine.switchboard!.capture.ladder([callId]);
        const sent = ladder.find(
          (m) =>
            m.direction === 'out' &&
            m.transport === 'tls' &&
            m.startLine.startsWith('MESSAGE ') &&
            m.message.includes(text),
        );
        const taken = ladder.find(
          (m) => m.direction === 'in' && m.transport === 'tls' && m.startLine.startsWith('SIP/2.0 200'),
        );
        const answered = ladder.some(
          (m) => m.direction === 'out' && m.transport === 'udp' && m.startLine.startsWith('SIP/2.0 200'),
        );
        return { ladder, sent, taken, answered };
      };
      let seen = delivered();
      for (let attempt = 0; attempt < 40 && !seen.answered; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        seen = delivered();
      }
      const ladder = seen.ladder.map((m) => `${m.direction} ${m.transport} ${m.startLine}`).join('\n');
      expect(seen.sent?.startLine, ladder).toMatch(
        /^MESSAGE sip:alice-[^@]+@127\.0\.0\.53:\d+;transport=tls /,
      );
      expect(seen.taken?.transport, ladder).toBe('tls');
      // ...and Kamailio heard her 200, as carol did through us.
      expect(seen.answered, ladder).toBe(true);
      for (const line of messages) expect(line).toContain(`src=${stack.sipAddress}`);
    });
  },
);
