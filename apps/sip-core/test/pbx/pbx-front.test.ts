import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CdrMediaStats } from '@switchboard/db';
import { type CallingSoftphone, startBaresip, writeToneWav } from '@switchboard/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { expectTone } from '../calls/support/audio.ts';
import { type CallStack, startCallStack } from '../calls/support/stack.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { udpPeer } from '../support/raw-sip.ts';
import { frontDomain } from './fronting.ts';
import { type KamailioPbx, startKamailioPbx } from './kamailio.ts';

/**
 * Fronting an existing PBX (docs/sbc.md, "Fronting a PBX"): Kamailio is the upstream PBX of the
 * domain pbx.test (registrar with Path, digest credentials in memory, INVITEs from the SBC only);
 * two baresip phones on their own loopback addresses register through the platform to it, with the
 * digest answered end to end, and call each other through the platform, Kamailio and the platform
 * again, with media through rtpengine; Kamailio challenges the INVITE and the phone answers it end
 * to end. Kamailio must never see a phone's address; its location holds our Path; a scanner is
 * turned away before it, a caller without credentials gets the PBX's challenge.
 */

const PBX_DOMAIN = 'pbx.test';
const PBX_ADDRESS = '127.0.0.41';
const ALICE_ADDRESS = '127.0.0.51';
const BOB_ADDRESS = '127.0.0.52';
const ALICE_TONE = 440;
const BOB_TONE = 1000;
const TALK_SECONDS = 4;

let stack: CallStack;
let pbx: KamailioPbx;
let audioDir: string;
const phones: CallingSoftphone[] = [];

beforeAll(async () => {
  pbx = await startKamailioPbx(PBX_ADDRESS, '127.0.0.1', {
    [`alice@${PBX_DOMAIN}`]: 'alice-pbx-secret',
    [`bob@${PBX_DOMAIN}`]: 'bob-pbx-secret',
  });
  // Its data directory holds the sealing key the flow tokens are made with.
  audioDir = mkdtempSync(join(tmpdir(), 'pbx-front-tones-'));
  stack = await startCallStack(
    {},
    {},
    async (db) => {
      const prisma = db.db.prisma;
      await frontDomain(prisma, pbx, PBX_DOMAIN);
    },
    { push: { dataDir: audioDir } },
  );
  writeToneWav(join(audioDir, 'alice.wav'), ALICE_TONE, 60);
  writeToneWav(join(audioDir, 'bob.wav'), BOB_TONE, 60);
}, 90_000);

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await stack?.close();
  await pbx?.stop();
  if (audioDir) rmSync(audioDir, { recursive: true, force: true });
}, 30_000);

/** Bounded wait (20 s) until Kamailio's location lists `user` of pbx.test. */
async function untilRegisteredAtPbx(user: string, phone: CallingSoftphone): Promise<string> {
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

/** The engine's start lines of every call leg the CDRs and Kamailio name (for a failure's message). */
async function ladder(): Promise<string> {
  const rows = await stack.testDb.db.prisma.cdr.findMany();
  const fromPbx = pbx.seen().flatMap((line) => /callid=(\S+)/.exec(line)?.[1] ?? []);
  const legs = new Set([...rows.flatMap((row) => [row.aLegId ?? '', row.bLegId ?? '']), ...fromPbx]);
  return stack.engine
    .switchboard!.capture.ladder([...legs].filter(Boolean))
    .map((m) => `${m.at} ${m.direction} ${m.source}->${m.destination} ${m.callId} ${m.startLine}`)
    .join('\n');
}

/** Bounded wait (10 s) until `count` CDRs are complete. */
async function completedCdrs(count: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const rows = await stack.testDb.db.prisma.cdr.findMany({ orderBy: { createdAt: 'asc' } });
    if (rows.length >= count && rows.every((row) => row.sipReason !== IN_PROGRESS)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the CDRs were not completed');
}

describeOnEngine(onEngine('fronting an upstream PBX (Kamailio)'), { timeout: 120_000 }, () => {
  it('relays REGISTERs with Path and calls with media; the PBX sees only the SBC', async () => {
    const sbc = stack.sipAddress;
    const alice = await startBaresip(
      {
        user: 'alice',
        domain: PBX_DOMAIN,
        password: 'alice-pbx-secret',
        registrar: sbc,
        address: ALICE_ADDRESS,
      },
      { play: join(audioDir, 'alice.wav') },
    );
    phones.push(alice);
    const bob = await startBaresip(
      { user: 'bob', domain: PBX_DOMAIN, password: 'bob-pbx-secret', registrar: sbc, address: BOB_ADDRESS },
      { play: join(audioDir, 'bob.wav') },
    );
    phones.push(bob);
    await untilRegisteredAtPbx('alice', alice);
    const dump = await untilRegisteredAtPbx('bob', bob);

    // Kamailio's location: each contact is ours with a flow token, and so is its Path.
    const sbcPath = new RegExp(`sip:fl[A-Za-z0-9_-]+@${sbc.replaceAll('.', '\\.')};lr`);
    expect(dump, dump).toMatch(sbcPath);
    expect(dump).not.toContain(ALICE_ADDRESS);
    expect(dump).not.toContain(BOB_ADDRESS);
    // The platform is not their registrar: nothing of pbx.test is in its own location service.
    expect(stack.sipCore.location.lookup(`sip:alice@${PBX_DOMAIN}`)).toHaveLength(0);

    // The digest ran end to end: Kamailio challenged (no Authorization), then took the answer.
    const registers = await untilSeen((line) => line.includes('PBX-SAW REGISTER'), 4);
    expect(registers.length).toBeGreaterThanOrEqual(4);
    const answered = registers.filter((line) => /auth=\[Digest username="(alice|bob)"/.test(line));
    expect(answered.length).toBeGreaterThanOrEqual(2);
    expect(registers.length).toBeGreaterThan(answered.length);
    for (const line of registers) {
      expect(line).toContain(`src=${sbc}`);
      expect(line).toMatch(/contact=\[<sip:fl[A-Za-z0-9_-]+@127\.0\.0\.1:\d+/);
      expect(line).toMatch(sbcPath);
    }

    // alice calls bob: through the platform to Kamailio, back through the platform (Route to our Path) to bob.
    alice.dial(`sip:bob@${PBX_DOMAIN}`);
    await Promise.all([alice.waitFor('established', 20_000), bob.waitFor('established', 20_000)]).catch(
      async (error: unknown) => {
        throw new Error(
          `${String(error).slice(0, 300)}\nalice's end:\n${alice.output().slice(-1500)}\nbob's end:\n${bob.output().slice(-1500)}\nKamailio saw:\n${pbx.seen().join('\n')}\nThe engine's ladder:\n${await ladder()}`,
        );
      },
    );
    await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
    alice.hangup();
    await Promise.all([alice.waitFor('closed'), bob.waitFor('closed')]);
    expectTone(alice.recording(), BOB_TONE, ALICE_TONE);
    expectTone(bob.recording(), ALICE_TONE, BOB_TONE);

    // alice's first attempt ends with the PBX's 407 (relayed to her), then two B2BUA calls: alice to
    // the PBX, and the PBX's to bob; both answered, media through the relay.
    // Picked by kind, not by order: the two answered calls' rows may be written in one batch.
    const cdrs = await completedCdrs(3);
    const challenged = cdrs.find((row) => row.sipCode === 407);
    const outbound = cdrs.find((row) => row.direction === 'outbound' && row.disposition === 'answered');
    const inbound = cdrs.find((row) => row.direction === 'inbound');
    expect(challenged).toMatchObject({ direction: 'outbound', disposition: 'failed', sipCode: 407 });
    expect(outbound).toMatchObject({ direction: 'outbound', disposition: 'answered' });
    expect(inbound).toMatchObject({ direction: 'inbound', disposition: 'answered' });
    for (const cdr of [outbound, inbound]) {
      const stats = cdr?.mediaStats as CdrMediaStats | null;
      expect(stats?.a?.packetsReceived, JSON.stringify(stats)).toBeGreaterThan(50);
      expect(stats?.b?.packetsReceived, JSON.stringify(stats)).toBeGreaterThan(50);
    }

    // What Kamailio received: only the SBC's signalling and media addresses, never a phone's.
    const invites = await untilSeen((line) => line.includes('PBX-SAW INVITE'), 2);
    const seen = pbx.seen();
    // The first INVITE is challenged (407), the phone's retry carries its credentials through us.
    expect(invites.length, seen.join('\n')).toBe(2);
    expect(invites[1]).toMatch(/auth=\[(<null>)?Digest username="alice"/);
    for (const invite of invites) {
      expect(invite).toContain(`src=${sbc}`);
      expect(invite).toMatch(/sdp=\[c=IN IP4 127\.0\.0\.1/);
    }
    for (const line of seen) {
      expect(line).not.toContain(ALICE_ADDRESS);
      expect(line).not.toContain(BOB_ADDRESS);
    }
  });

  it('turns a scanner away before the PBX; a caller without credentials gets the PBX challenge', async () => {
    const [address, port] = stack.sipAddress.split(':');
    const scanner = await udpPeer('127.0.0.61', Number(port));
    const callId = `scan-${Date.now()}`;
    await scanner.send(
      [
        `REGISTER sip:${PBX_DOMAIN} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.61:${scanner.port};branch=z9hG4bK${callId};rport`,
        'Max-Forwards: 70',
        `From: <sip:100@${PBX_DOMAIN}>;tag=s1`,
        `To: <sip:100@${PBX_DOMAIN}>`,
        `Call-ID: ${callId}`,
        'CSeq: 1 REGISTER',
        `Contact: <sip:100@127.0.0.61:${scanner.port}>`,
        'User-Agent: friendly-scanner',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    await scanner.waitFor(1);
    expect(scanner.received[0]).toMatch(/^SIP\/2\.0 403 /);
    scanner.close();

    // alice's name without her credentials: the PBX's challenge comes back through us, and nothing of
    // the caller's address reaches the PBX.
    const stranger = await udpPeer('127.0.0.62', Number(port));
    const inviteId = `stranger-${Date.now()}`;
    const sdp = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.62',
      's=-',
      'c=IN IP4 127.0.0.62',
      't=0 0',
      'm=audio 40000 RTP/AVP 0',
      '',
    ].join('\r\n');
    await stranger.send(
      [
        `INVITE sip:bob@${PBX_DOMAIN} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.62:${stranger.port};branch=z9hG4bK${inviteId};rport`,
        'Max-Forwards: 70',
        `From: <sip:alice@${PBX_DOMAIN}>;tag=x1`,
        `To: <sip:bob@${PBX_DOMAIN}>`,
        `Call-ID: ${inviteId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:alice@127.0.0.62:${stranger.port}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(sdp)}`,
        '',
        sdp,
      ].join('\r\n'),
    );
    await stranger.waitFor(2);
    const challenge = stranger.received.find((m) => /^SIP\/2\.0 407 /.test(m));
    expect(challenge, stranger.received.join('\n')).toMatch(/Proxy-Authenticate: Digest realm="pbx.test"/i);
    stranger.close();
    expect(address).toBe('127.0.0.1');
    // Neither reached Kamailio.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const seen = pbx.seen().join('\n');
    expect(seen).not.toContain(callId);
    expect(seen).toMatch(/PBX-SAW INVITE src=127\.0\.0\.1:\d+ ruri=sip:bob@pbx\.test/);
    expect(seen).not.toContain('127.0.0.61');
    expect(seen).not.toContain('127.0.0.62');
  });
});
