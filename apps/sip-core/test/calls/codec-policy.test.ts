import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrismaClient } from '@switchboard/db';
import {
  analyseTones,
  type CallingSoftphone,
  type PcmAudio,
  readWav,
  sippPcap,
  startBaresip,
  writeToneWav,
} from '@switchboard/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { alawToLinear, linearToAlaw, type PcmaPeer, startPcmaPeer } from './support/pcma-peer.ts';
import { addOutboundRewrite, addPrimaryNumber } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  startCallStack,
} from './support/stack.ts';

/**
 * Codec policy towards carriers (docs/sbc.md, "Codec policy"), through engine + sip-core + a real
 * rtpengine, with three carriers on their own loopback addresses:
 * - `pcma` (+4960…): speaks PCMA only; its gateway's policy allows PCMA and transcodes to it. A
 *   baresip phone offering Opus only calls it: the call connects, the carrier (a sipp UAS whose media
 *   is a socket of this test) hears the phone's tone in PCMA and the phone hears the carrier's tone;
 * - `ordered` (+4970…): its peering group allows PCMU, PCMA in this order with RFC 4733 events;
 * - `plain` (+4980…): no policy of its own: the calling domain's (strip G722, ptime 30) applies;
 * - `info` (+4990…): PCMA only, DTMF as SIP INFO both ways: a G.711 phone gets the carrier's key as
 *   RFC 4733, and a caller's RFC 4733 key reaches the carrier as an INFO (rtpengine's DTMF feed);
 *   calling in, the answering phone's RFC 4733 key reaches it as an INFO too.
 */

const PHONE_TONE = 440;
const CARRIER_TONE = 1000;
const TALK_SECONDS = 4;

let stack: CallStack;
let audioDir: string;
const hosts = { pcma: '127.0.0.41', ordered: '127.0.0.42', plain: '127.0.0.43', info: '127.0.0.44' };
const ports = { pcma: 0, ordered: 0, plain: 0, info: 0 };
const ids: Record<string, string> = {};
const phones: CallingSoftphone[] = [];
const peers: PcmaPeer[] = [];

async function addGroup(prisma: PrismaClient, name: keyof typeof hosts, prefix: string): Promise<void> {
  const group = await prisma.peeringGroup.create({ data: { name } });
  const gateway = await prisma.peerGateway.create({
    data: { groupId: group.id, name, host: hosts[name], port: ports[name], priority: 1 },
  });
  await prisma.peeringRule.create({ data: { groupId: group.id, calleePrefix: prefix } });
  ids[`${name}Group`] = group.id;
  ids[name] = gateway.id;
}

async function provision(
  db: CallStack['testDb'],
  tenant: CallStack['tenant'],
  subscribers: Map<string, string>,
): Promise<void> {
  const prisma = db.db.prisma;
  await addPrimaryNumber(prisma, subscribers.get('alice') ?? '', '+4930111111');
  await addOutboundRewrite(prisma, tenant.domainId);
  await addGroup(prisma, 'pcma', '4960');
  await addGroup(prisma, 'ordered', '4970');
  await addGroup(prisma, 'plain', '4980');
  await addGroup(prisma, 'info', '4990');
  await prisma.domain.update({
    where: { id: tenant.domainId },
    data: { codecStrip: ['G722'], ptime: 30 },
  });
  // The gateway's own policy, with the packetisation of the carrier's socket.
  await prisma.peerPolicy.create({
    data: { gatewayId: ids.pcma ?? '', codecAllow: ['PCMA'], codecTranscode: ['PCMA'], ptime: 20 },
  });
  await prisma.peerPolicy.create({
    data: {
      gatewayId: ids.info ?? '',
      codecAllow: ['PCMA'],
      codecTranscode: ['PCMA'],
      ptime: 20,
      dtmfInfo: true,
    },
  });
  // The group's policy, inherited by its gateway.
  await prisma.peerPolicy.create({
    data: { peeringGroupId: ids.orderedGroup ?? '', codecAllow: ['PCMU', 'PCMA'], dtmfEvents: true },
  });
}

beforeAll(async () => {
  ports.pcma = await allocatePort();
  ports.ordered = await allocatePort();
  ports.plain = await allocatePort();
  ports.info = await allocatePort();
  stack = await startCallStack({ alice: 'alice-secret' }, { ringTimeout: 15 }, provision, {
    dtmfFeed: true,
  });
  audioDir = mkdtempSync(join(tmpdir(), 'sipcore-codecs-'));
  writeToneWav(join(audioDir, 'phone.wav'), PHONE_TONE, 60);
}, 60_000);

afterEach(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  for (const peer of peers.splice(0)) await peer.close();
});

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  for (const peer of peers.splice(0)) await peer.close();
  await closeCallStack(stack);
  if (audioDir) rmSync(audioDir, { recursive: true, force: true });
}, 30_000);

/** `tone` clearly dominates the audio (more than a second of it), `other` is absent. */
function expectTone(audio: PcmAudio, what: string, tone: number, other: number): void {
  const analysis = analyseTones(audio, [tone, other]);
  const summary = `${what}: ${JSON.stringify({ ...analysis, share: Object.fromEntries(analysis.share) })}`;
  expect(analysis.voicedSeconds, summary).toBeGreaterThanOrEqual(2);
  expect(analysis.share.get(tone), summary).toBeGreaterThan(0.8);
  expect(analysis.share.get(other), summary).toBeLessThan(0.05);
}

/** A sipp caller (alice) offering PCMA, G722, PCMU calls `callee` at a sipp carrier checking its offer. */
async function sippCall(carrier: keyof typeof hosts, scenario: string, callee: string): Promise<void> {
  const gateway = runSipp({ scenario, port: ports[carrier], localIp: hosts[carrier], timeoutS: 12 });
  await gateway.listening();
  const caller = runSipp({
    scenario: 'uac-call-codecs.xml',
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', callee),
    authUri: `${callee}@${DOMAIN}`,
    timeoutS: 12,
  });
  const [a, g] = await Promise.all([caller.done, gateway.done]);
  expectSippOk(a, 'caller');
  expectSippOk(g, `carrier ${carrier}`);
}

describe('G.711 A-law helpers of the test carrier', () => {
  it('round-trip a sample within A-law quantisation', () => {
    for (const sample of [0, 100, -100, 1000, -5000, 16384, -32768, 32767])
      expect(Math.abs(alawToLinear(linearToAlaw(sample)) - sample)).toBeLessThanOrEqual(
        Math.max(16, Math.abs(sample) / 16),
      );
  });
});

/** A PCMA-only sipp carrier (media: a test socket sending its tone) and a registered baresip with `codecs`. */
async function phoneAndCarrier(
  name: keyof typeof hosts,
  scenario: string,
  codecs: Array<'opus' | 'g711'> = ['opus'],
) {
  await stack.testDb.db.prisma.registration.deleteMany({});
  await stack.sipCore.location.load();
  const peer = await startPcmaPeer(await allocatePort(), CARRIER_TONE);
  peers.push(peer);
  const carrier = runSipp({
    scenario,
    port: ports[name],
    localIp: hosts[name],
    fields: [String(peer.port)],
    timeoutS: 30,
  });
  await carrier.listening();
  const phone = await startBaresip(
    { user: 'alice', domain: DOMAIN, password: 'alice-secret', registrar: stack.sipAddress },
    { play: join(audioDir, 'phone.wav'), codecs },
  );
  phones.push(phone);
  return { peer, carrier, phone };
}

describeOnEngine(onEngine('codec policy towards carriers'), { timeout: 90_000 }, () => {
  it("a group's allow-list reaches its gateway: only PCMU, PCMA in the list's order, RFC 4733 events added", async () => {
    await sippCall('ordered', 'uas-gateway-codecs-ordered.xml', '+4970555123');
  });

  it("a gateway without a policy gets the calling domain's: G722 stripped, ptime 30, the caller's order kept", async () => {
    await sippCall('plain', 'uas-gateway-codecs-domain.xml', '+4980555123');
  });

  it('an Opus-only phone reaches a PCMA-only carrier through transcoding, audio both ways', async () => {
    const { peer, carrier, phone } = await phoneAndCarrier('pcma', 'uas-carrier-pcma.xml');
    const before = await stack.testDb.db.prisma.cdr.count();
    phone.dial(`sip:+4960555123@${DOMAIN}`);
    await phone.waitFor('established', 20_000);
    // The call's answer towards the carrier was PCMA: the relay bridges Opus and PCMA.
    const [live] = stack.sipCore.activeCalls();
    expect(live?.codecs[0]).toBe('PCMA/8000');
    await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
    phone.hangup();
    await phone.waitFor('closed');
    expectSippOk(await carrier.done, 'carrier pcma');
    expect(await completedCdr(stack, before)).toMatchObject({
      disposition: 'answered',
      peerGatewayId: ids.pcma,
    });
    expect(peer.otherPayloads()).toBe(0);
    // The carrier heard the phone's tone, encoded by the relay into PCMA from the phone's Opus.
    expectTone(peer.received(), 'carrier', PHONE_TONE, CARRIER_TONE);
    // The phone heard the carrier's tone, transcoded from PCMA into Opus.
    expectTone(readWav(phone.recording()), 'phone', CARRIER_TONE, PHONE_TONE);
  });

  // A G.711 phone: rtpengine 10.5 cannot generate events into an Opus stream (48 kHz) whose
  // telephone-event runs at 8 kHz, as baresip offers it ("Cannot generate ... DTMF samples").
  it("a carrier's SIP INFO key reaches a G.711 phone as RFC 4733 events", async () => {
    const { carrier, phone } = await phoneAndCarrier('info', 'uas-carrier-pcma-info.xml', ['g711']);
    phone.dial(`sip:+4990555123@${DOMAIN}`);
    await phone.waitFor('established', 20_000);
    // baresip reports a telephone-event it received; the carrier sends key 5 1.5 s after its answer.
    await phone.waitFor('dtmf', 15_000);
    expect(phone.dtmfKeys?.()).toEqual(['5']);
    phone.hangup();
    await phone.waitFor('closed');
    expectSippOk(await carrier.done, 'carrier info');
  });

  it("a caller's RFC 4733 key reaches a carrier that wants INFO as an INFO with Signal=1", async () => {
    const peer = await startPcmaPeer(await allocatePort(), CARRIER_TONE);
    peers.push(peer);
    const carrier = runSipp({
      scenario: 'uas-carrier-pcma-info-in.xml',
      port: ports.info,
      localIp: hosts.info,
      fields: [String(peer.port)],
      timeoutS: 30,
    });
    await carrier.listening();
    const callee = '+4990555124';
    const caller = runSipp({
      scenario: 'uac-call-dtmf.xml',
      port: await allocatePort(),
      remote: stack.sipAddress,
      fields: callFields('alice', 'alice-secret', callee),
      authUri: `${callee}@${DOMAIN}`,
      pcaps: [sippPcap('dtmf_2833_1.pcap')],
      timeoutS: 30,
    });
    const [a, g] = await Promise.all([caller.done, carrier.done]);
    expectSippOk(a, 'caller');
    // The carrier's scenario fails without an INFO carrying Signal=1 before the BYE.
    expectSippOk(g, 'carrier info-in');
    // No telephone-event reached the carrier's media as RTP (it was offered none).
    expect(peer.otherPayloads()).toBe(0);
  });

  it("calling in, the answering phone's RFC 4733 key reaches a carrier that wants INFO as an INFO with Signal=1", async () => {
    await stack.testDb.db.prisma.registration.deleteMany({});
    await stack.sipCore.location.load();
    // A G.711 baresip (answers automatically; sends keys as RFC 4733 when its answer has events).
    const phone = await startBaresip(
      { user: 'alice', domain: DOMAIN, password: 'alice-secret', registrar: stack.sipAddress },
      { play: join(audioDir, 'phone.wav'), codecs: ['g711'] },
    );
    phones.push(phone);
    const before = await stack.testDb.db.prisma.cdr.count();
    // The carrier offers PCMA only; it fails unless the answer holds no telephone-event and an INFO
    // with Signal=1 arrives in its dialog.
    const carrier = runSipp({
      scenario: 'uac-peer-call-info.xml',
      port: await allocatePort(),
      localIp: hosts.info,
      remote: stack.sipAddress,
      fields: ['+4915100000', 'unused', DOMAIN, '+4930111111'],
      timeoutS: 30,
    });
    await phone.waitFor('established', 20_000);
    await phone.sendDigits?.('1');
    expectSippOk(await carrier.done, 'carrier info calling in');
    await phone.waitFor('closed');
    expect(await completedCdr(stack, before)).toMatchObject({
      direction: 'inbound',
      disposition: 'answered',
      peerGatewayId: ids.info,
    });
  });
});
