import { createSocket, type Socket } from 'node:dgram';
import {
  type LegProfile,
  type LocalRtpengine,
  profiles,
  RtpengineMedia,
  startLocalRtpengine,
} from '@switchboard/media';
import { allocatePort } from '@switchboard/testkit';
import type Srf from 'drachtio-srf';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceLegProfile } from '../../src/calls/leg-profile.ts';
import { OfferAnswer } from '../../src/calls/offer-answer.ts';

/**
 * A subscriber with a browser (registered over wss) and a desk phone (over udp) is called: each fork
 * gets the relay's offer for its own kind of leg from one real rtpengine session, and whichever answers
 * has its answer translated for the caller, with RTP flowing through the relay to the desk phone.
 */
const log = pino({ level: 'silent' });
const RTP = { min: 47760, max: 47789 };

/** A SIP phone's plain RTP offer or answer: G.711 and RFC 4733 events. */
function phoneSdp(port: number): string {
  return `${[
    'v=0',
    'o=phone 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
  ].join('\r\n')}\r\n`;
}

/** A browser's answer to the relay's WebRTC offer: DTLS active, ICE, rtcp-mux (RFC 8829 §5.3.1). */
function browserAnswer(port: number): string {
  return `${[
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 0 101`,
    'c=IN IP4 127.0.0.1',
    `a=candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host generation 0`,
    'a=ice-ufrag:Wq7c',
    'a=ice-pwd:8mLqoEVqM1nvhDwnkjM9Yzq7',
    'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
    'a=setup:active',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
  ].join('\r\n')}\r\n`;
}

const lines = (sdp: string, prefix: string) => sdp.split(/\r?\n/).filter((l) => l.startsWith(prefix));
const mLine = (sdp: string) => lines(sdp, 'm=audio')[0] ?? '';
const mPort = (sdp: string) => Number(mLine(sdp).split(' ')[1]);

function expectWebrtcLeg(sdp: string): void {
  expect(mLine(sdp), sdp).toMatch(/ UDP\/TLS\/RTP\/SAVPF /);
  expect(lines(sdp, 'a=fingerprint:'), sdp).toHaveLength(1);
  expect(lines(sdp, 'a=candidate:').length, sdp).toBeGreaterThan(0);
  expect(lines(sdp, 'a=rtcp-mux'), sdp).toHaveLength(1);
}

function expectPlainLeg(sdp: string): void {
  expect(mLine(sdp), sdp).toMatch(/ RTP\/AVP /);
  expect(lines(sdp, 'a=candidate:'), sdp).toHaveLength(0);
  expect(lines(sdp, 'a=ice-ufrag:'), sdp).toHaveLength(0);
  expect(lines(sdp, 'a=fingerprint:'), sdp).toHaveLength(0);
}

/** A UDP socket on loopback playing an RTP endpoint. */
async function rtpSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

/** A G.711 RTP packet (RFC 3550 §5.1) with 160 bytes of payload. */
function rtpPacket(seq: number, ssrc: number): Buffer {
  const packet = Buffer.alloc(12 + 160, 0xff);
  packet[0] = 0x80;
  packet[1] = 0;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(seq * 160, 4);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

/** Sends RTP from `from` to the relay's `port` (bounded: 50 packets) until `to` has received some. */
async function rtpArrives(from: Socket, port: number, to: Socket): Promise<void> {
  let received = 0;
  const count = () => {
    received += 1;
  };
  to.on('message', count);
  try {
    for (let seq = 1; seq <= 50 && received < 5; seq += 1) {
      from.send(rtpPacket(seq, 0x1234 + port), port, '127.0.0.1');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    to.off('message', count);
  }
  expect(received, `RTP sent to relay port ${port}`).toBeGreaterThanOrEqual(5);
}

describe('a subscriber with a browser and a desk phone is called', () => {
  let rtpengine: LocalRtpengine;
  let media: RtpengineMedia;
  const sockets: Socket[] = [];
  let n = 0;

  beforeAll(async () => {
    const ngPort = await allocatePort({ min: 47790, max: 47799 });
    rtpengine = await startLocalRtpengine({
      ngPort,
      portMin: RTP.min,
      portMax: RTP.max,
      interface: ['127.0.0.1'],
      logger: log,
      stopTimeoutMs: 3000,
    });
    media = new RtpengineMedia({
      instances: [{ host: rtpengine.host, port: rtpengine.port, weight: 1 }],
      logger: log,
      healthIntervalMs: 0,
    });
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await media?.close();
    await rtpengine?.stop();
  });

  /** A desk phone calling the subscriber: the call's offer/answer state as sip-core keeps it. */
  async function callFromPhone(): Promise<{ oa: OfferAnswer; caller: Socket }> {
    n += 1;
    const caller = await rtpSocket();
    sockets.push(caller);
    const callerInvite = { body: phoneSdp(caller.address().port), source_address: '127.0.0.1' };
    const oa = new OfferAnswer({
      callId: `forked-profiles-${n}@test`,
      aTag: 'caller-tag',
      callerInvite: callerInvite as unknown as Srf.SrfRequest,
      callerProfile: profiles.natSubscriber,
      withheld: false,
      media,
      // Only the INVITE's offer and the forks' answers are exercised here: no request is sent.
      srf: undefined as unknown as Srf,
      log,
      state: () => 'trying',
      calleeProfile: () => undefined,
    });
    return { oa, caller };
  }

  /** A fork's 2xx as the answering dialog shows it. */
  const answering = (sdp: string, tag: string) =>
    ({ remote: { sdp }, sip: { remoteTag: tag } }) as unknown as Srf.Dialog;

  const browser: LegProfile = deviceLegProfile('wss');
  const desk: LegProfile = deviceLegProfile('udp');

  it('each fork is offered its own profile from one relay session: WebRTC to the browser, plain RTP to the phone', async () => {
    const { oa } = await callFromPhone();
    await oa.offersTowards([browser, desk]);
    const toBrowser = oa.calleeOffer(browser);
    const toDesk = oa.calleeOffer(desk);
    expectWebrtcLeg(toBrowser);
    expectPlainLeg(toDesk);
    // One session: the relay faces the callee on the same port, only the profile differs.
    expect(mPort(toBrowser)).toBe(mPort(toDesk));
    await oa.end();
  });

  it('the desk phone answers: its plain answer is translated for the caller and RTP flows both ways', async () => {
    const { oa, caller } = await callFromPhone();
    await oa.offersTowards([browser, desk]);
    const phone = await rtpSocket();
    sockets.push(phone);
    const toDesk = oa.calleeOffer(desk);
    const callerAnswer = await oa.finalAnswer(answering(phoneSdp(phone.address().port), 'desk-tag'), desk);
    expectPlainLeg(callerAnswer);
    // The relay was given the phone's offer again: what it holds towards the callee is plain RTP.
    expectPlainLeg(oa.calleeOffer());
    await rtpArrives(caller, mPort(callerAnswer), phone);
    await rtpArrives(phone, mPort(toDesk), caller);
    await oa.end();
  });

  it('the browser answers: its DTLS-SRTP answer is translated to plain RTP for the caller', async () => {
    const { oa } = await callFromPhone();
    await oa.offersTowards([desk, browser]);
    const toBrowser = oa.calleeOffer(browser);
    const callerAnswer = await oa.finalAnswer(answering(browserAnswer(50100), 'browser-tag'), browser);
    expectPlainLeg(callerAnswer);
    expect(mLine(callerAnswer)).toMatch(/ 0( |$)/);
    // The browser keeps the ICE credentials and certificate it was offered.
    const held = oa.calleeOffer();
    expectWebrtcLeg(held);
    for (const prefix of ['a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:'])
      expect(lines(held, prefix)).toEqual(lines(toBrowser, prefix));
    await oa.end();
  });

  it('the desk phone sends early media, then the browser answers: the relay is put back to the browser offer', async () => {
    const { oa } = await callFromPhone();
    await oa.offersTowards([browser, desk]);
    const toBrowser = oa.calleeOffer(browser);
    const phone = await rtpSocket();
    sockets.push(phone);
    const early = {
      status: 183,
      body: phoneSdp(phone.address().port),
      source_address: '127.0.0.1',
      get: (name: string) =>
        name === 'To' ? '<sip:duo@example.test>;tag=desk-tag' : '<sip:caller@example.test>;tag=b-from',
    } as unknown as Srf.SrfResponse;
    const earlyAnswer = await oa.earlyAnswer(early, desk);
    expectPlainLeg(earlyAnswer ?? '');
    expectPlainLeg(oa.calleeOffer());
    const callerAnswer = await oa.finalAnswer(answering(browserAnswer(50102), 'browser-tag'), browser);
    expectPlainLeg(callerAnswer);
    const held = oa.calleeOffer();
    expectWebrtcLeg(held);
    expect(mPort(held)).toBe(mPort(toBrowser));
    for (const prefix of ['a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:'])
      expect(lines(held, prefix)).toEqual(lines(toBrowser, prefix));
    await oa.end();
  });

  it('devices of one kind keep the one offer', async () => {
    const { oa } = await callFromPhone();
    await oa.offersTowards([desk, deviceLegProfile('tcp')]);
    expectPlainLeg(oa.calleeOffer(desk));
    expect(oa.calleeOffer(desk)).toBe(oa.calleeOffer(deviceLegProfile('tls')));
    await oa.end();
  });
});
