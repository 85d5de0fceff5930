import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRtpengine } from '../src/launcher.ts';
import { type LegProfile, profiles } from '../src/profiles.ts';
import { RtpengineMedia } from '../src/rtpengine-media.ts';
import { lines, mediaSection, mLines, sdp, silentLogger, startTestRtpengine, webrtcSdp } from './support.ts';

// Each profile's SDP rewrite, checked line by line against a real rtpengine.
const PORT_MIN = 31200;
const PORT_MAX = 31599;

let rtpengine: LocalRtpengine;
let media: RtpengineMedia;
let callNo = 0;

beforeAll(async () => {
  rtpengine = await startTestRtpengine({
    ngPort: 22301,
    portMin: PORT_MIN,
    portMax: PORT_MAX,
    interfaces: ['pub/127.0.0.1', 'pub/::1', 'priv/127.0.0.2'],
  });
  media = new RtpengineMedia({
    instances: [{ host: rtpengine.host, port: rtpengine.port, weight: 1 }],
    logger: silentLogger,
    healthIntervalMs: 0,
  });
});

afterAll(async () => {
  await media?.close();
  await rtpengine?.stop();
});

function relayPort(port: number): boolean {
  return port >= PORT_MIN && port <= PORT_MAX;
}

async function offerAnswer(
  offerSdp: string,
  caller: LegProfile,
  callee: LegProfile,
  answerSdp: string,
  sourceAddress?: string,
): Promise<{ offer: string; answer: string }> {
  callNo += 1;
  const callId = `profile-${callNo}@test`;
  const { sdp: offer, session } = await media.offer({
    callId,
    fromTag: 'caller-tag',
    sdp: offerSdp,
    legProfile: caller,
    otherLegProfile: callee,
    ...(sourceAddress === undefined ? {} : { sourceAddress }),
  });
  const { sdp: answer } = await session.answer({
    toTag: 'callee-tag',
    sdp: answerSdp,
    ...(sourceAddress === undefined ? {} : { sourceAddress }),
  });
  await session.end();
  return { offer, answer };
}

describe('flag profiles against rtpengine', () => {
  it('NAT subscriber to public peer: relay address and ports, origin replaced, no ICE', async () => {
    const phone = sdp({
      address: '192.168.1.20',
      audioPort: 4000,
      extra: [
        'a=ice-ufrag:abcd',
        'a=ice-pwd:0123456789abcdef012345',
        'a=candidate:1 1 UDP 2130706431 192.168.1.20 4000 typ host',
      ],
    });
    const peer = sdp({ address: '127.0.0.1', audioPort: 5000 });
    const { offer, answer } = await offerAnswer(
      phone,
      profiles.natSubscriber,
      profiles.publicPeer,
      peer,
      '127.0.0.1',
    );

    expect(lines(offer, 'c=')).toEqual(['c=IN IP4 127.0.0.1']);
    expect(lines(offer, 'o=')[0]).toMatch(/ IN IP4 127\.0\.0\.1$/);
    expect(offer).not.toContain('192.168.1.20');
    expect(lines(offer, 'a=ice-ufrag')).toEqual([]);
    expect(lines(offer, 'a=candidate')).toEqual([]);
    const [audio] = mLines(offer);
    expect(audio?.proto).toBe('RTP/AVP');
    expect(relayPort(audio!.port)).toBe(true);
    expect(audio?.formats).toEqual(['0', '8', '101']);

    expect(lines(answer, 'c=')).toEqual(['c=IN IP4 127.0.0.1']);
    const [answerAudio] = mLines(answer);
    expect(relayPort(answerAudio!.port)).toBe(true);
    expect(answerAudio!.port).not.toBe(audio!.port);
  });

  it('public peer to NAT subscriber keeps plain RTP on both sides', async () => {
    const peer = sdp({ address: '127.0.0.1', audioPort: 5002 });
    const phone = sdp({ address: '10.1.1.1', audioPort: 4002 });
    const { offer, answer } = await offerAnswer(peer, profiles.publicPeer, profiles.natSubscriber, phone);
    expect(mLines(offer)[0]?.proto).toBe('RTP/AVP');
    expect(mLines(answer)[0]?.proto).toBe('RTP/AVP');
    expect(answer).not.toContain('10.1.1.1');
    expect(relayPort(mLines(answer)[0]!.port)).toBe(true);
  });

  it('WebRTC to plain RTP: DTLS/ICE/rtcp-mux removed towards the phone and kept towards the browser', async () => {
    const browser = webrtcSdp('127.0.0.1', 6000);
    const phone = sdp({ address: '127.0.0.1', audioPort: 6002 });
    const { offer, answer } = await offerAnswer(
      browser,
      profiles.webrtc,
      profiles.publicPeer,
      phone,
      '127.0.0.1',
    );

    const [audio] = mLines(offer);
    expect(audio?.proto).toBe('RTP/AVP');
    expect(relayPort(audio!.port)).toBe(true);
    expect(lines(offer, 'a=ice-ufrag')).toEqual([]);
    expect(lines(offer, 'a=fingerprint')).toEqual([]);
    expect(lines(offer, 'a=rtcp-mux')).toEqual([]);
    // Demuxed: RTCP gets its own port, the next one.
    expect(lines(offer, 'a=rtcp:')).toEqual([`a=rtcp:${audio!.port + 1}`]);

    const [answerAudio] = mLines(answer);
    expect(answerAudio?.proto).toBe('UDP/TLS/RTP/SAVPF');
    expect(lines(answer, 'a=ice-ufrag').length).toBe(1);
    expect(lines(answer, 'a=candidate').length).toBeGreaterThan(0);
    expect(lines(answer, 'a=fingerprint:sha-256').length).toBe(1);
    expect(lines(answer, 'a=rtcp-mux')).toEqual(['a=rtcp-mux']);
    expect(lines(answer, 'a=crypto')).toEqual([]);
  });

  it('plain RTP to WebRTC: the browser gets ICE, DTLS-SRTP and rtcp-mux; the phone plain RTP back', async () => {
    const phone = sdp({ address: '127.0.0.1', audioPort: 6004 });
    const { sdp: offer, session } = await media.offer({
      callId: 'to-browser@test',
      fromTag: 'phone-tag',
      sdp: phone,
      legProfile: profiles.publicPeer,
      otherLegProfile: profiles.webrtc,
    });
    expect(mLines(offer)[0]?.proto).toBe('UDP/TLS/RTP/SAVPF');
    expect(lines(offer, 'a=ice-ufrag').length).toBe(1);
    expect(lines(offer, 'a=ice-pwd').length).toBe(1);
    expect(lines(offer, 'a=fingerprint:sha-256').length).toBe(1);
    expect(lines(offer, 'a=setup:actpass')).toEqual(['a=setup:actpass']);
    expect(lines(offer, 'a=rtcp-mux')).toEqual(['a=rtcp-mux']);
    expect(lines(offer, 'a=crypto')).toEqual([]);
    // Browsers match m-lines by mid (RFC 8843); the phone sent none, so the relay generates it.
    expect(lines(offer, 'a=mid:').length).toBe(1);

    const browserAnswer = webrtcSdp('127.0.0.1', 6006).replace('a=setup:actpass', 'a=setup:active');
    const { sdp: answer } = await session.answer({
      toTag: 'browser-tag',
      sdp: browserAnswer,
      sourceAddress: '127.0.0.1',
    });
    expect(mLines(answer)[0]?.proto).toBe('RTP/AVP');
    expect(lines(answer, 'a=ice-ufrag')).toEqual([]);
    expect(lines(answer, 'a=fingerprint')).toEqual([]);
    expect(lines(answer, 'a=rtcp-mux')).toEqual([]);
    await session.end();
  });

  it('plain RTP to SDES-SRTP: RTP/SAVP with a=crypto and no DTLS; the phone gets RTP/AVP back', async () => {
    const phone = sdp({ address: '127.0.0.1', audioPort: 6008 });
    const srtpPhone = sdp({
      address: '127.0.0.1',
      audioPort: 6010,
      proto: 'RTP/SAVP',
      extra: ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'],
    });
    const { offer, answer } = await offerAnswer(
      phone,
      profiles.publicPeer,
      profiles.srtpSubscriber,
      srtpPhone,
    );
    expect(mLines(offer)[0]?.proto).toBe('RTP/SAVP');
    expect(lines(offer, 'a=crypto:').length).toBeGreaterThan(0);
    // Only the two RFC 4568 suites, never a NULL cipher.
    expect(lines(offer, 'a=crypto:').map((l) => l.split(' ')[1])).toEqual([
      'AES_CM_128_HMAC_SHA1_80',
      'AES_CM_128_HMAC_SHA1_32',
    ]);
    expect(lines(offer, 'a=fingerprint')).toEqual([]);
    expect(lines(offer, 'a=ice-ufrag')).toEqual([]);
    expect(mLines(answer)[0]?.proto).toBe('RTP/AVP');
    expect(lines(answer, 'a=crypto')).toEqual([]);
  });

  it('SDES-SRTP to plain RTP strips the crypto towards the plain side', async () => {
    const srtpPhone = sdp({
      address: '127.0.0.1',
      audioPort: 6012,
      proto: 'RTP/SAVP',
      extra: ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'],
    });
    const phone = sdp({ address: '127.0.0.1', audioPort: 6014 });
    const { offer, answer } = await offerAnswer(
      srtpPhone,
      profiles.srtpSubscriber,
      profiles.publicPeer,
      phone,
      '127.0.0.1',
    );
    expect(mLines(offer)[0]?.proto).toBe('RTP/AVP');
    expect(lines(offer, 'a=crypto')).toEqual([]);
    expect(mLines(answer)[0]?.proto).toBe('RTP/SAVP');
    expect(lines(answer, 'a=crypto:').length).toBe(1);
  });

  it('G.711 gateway: every codec but PCMA/PCMU/telephone-event is stripped from the offer', async () => {
    const phone = sdp({
      address: '127.0.0.1',
      audioPort: 6016,
      audioFormats: [
        [9, 'G722/8000'],
        [0, 'PCMU/8000'],
        [18, 'G729/8000'],
        [8, 'PCMA/8000'],
        [101, 'telephone-event/8000'],
      ],
    });
    const gateway = sdp({ address: '127.0.0.1', audioPort: 6018, audioFormats: [[8, 'PCMA/8000']] });
    const { offer } = await offerAnswer(phone, profiles.publicPeer, profiles.g711Gateway, gateway);
    expect(mLines(offer)[0]?.formats).toEqual(['0', '8', '101']);
    expect(lines(offer, 'a=rtpmap:9')).toEqual([]);
    expect(lines(offer, 'a=rtpmap:18')).toEqual([]);
  });

  it('codec mask hides a codec from the receiving leg', async () => {
    const phone = sdp({
      address: '127.0.0.1',
      audioPort: 6020,
      audioFormats: [
        [0, 'PCMU/8000'],
        [9, 'G722/8000'],
        [8, 'PCMA/8000'],
      ],
    });
    const answerer = sdp({ address: '127.0.0.1', audioPort: 6022, audioFormats: [[0, 'PCMU/8000']] });
    const { offer } = await offerAnswer(
      phone,
      profiles.publicPeer,
      { transport: 'rtp', codecs: { mask: ['G722'] } },
      answerer,
    );
    expect(mLines(offer)[0]?.formats).toEqual(['0', '8']);
  });

  it('IPv4 to IPv6: the IPv6 leg gets an IPv6 relay address and the IPv4 leg an IPv4 one', async () => {
    const v4phone = sdp({ address: '127.0.0.1', audioPort: 6024 });
    const v6phone = sdp({ address: '::1', audioPort: 6026, family: 'IP6' });
    const { offer, answer } = await offerAnswer(
      v4phone,
      profiles.publicPeer,
      { transport: 'rtp', addressFamily: 'IP6' },
      v6phone.replace('c=IN IP6 ::1', 'c=IN IP6 ::1'),
    );
    expect(lines(offer, 'c=')).toEqual(['c=IN IP6 ::1']);
    expect(lines(answer, 'c=')).toEqual(['c=IN IP4 127.0.0.1']);
  });

  it('interface selection on a multi-homed relay: each leg gets the address of its interface', async () => {
    const inside = sdp({ address: '127.0.0.1', audioPort: 6028 });
    const outside = sdp({ address: '127.0.0.2', audioPort: 6030 });
    const { offer, answer } = await offerAnswer(
      inside,
      { transport: 'rtp', interface: 'pub' },
      { transport: 'rtp', interface: 'priv' },
      outside,
    );
    expect(lines(offer, 'c=')).toEqual(['c=IN IP4 127.0.0.2']);
    expect(lines(answer, 'c=')).toEqual(['c=IN IP4 127.0.0.1']);
  });

  it('audio and video m-lines are both rewritten, each to its own relay port', async () => {
    const caller = sdp({ address: '127.0.0.1', audioPort: 6032, videoPort: 6034 });
    const callee = sdp({ address: '127.0.0.1', audioPort: 6036, videoPort: 6038 });
    const { offer, answer } = await offerAnswer(
      caller,
      profiles.natSubscriber,
      profiles.publicPeer,
      callee,
      '127.0.0.1',
    );
    for (const rewritten of [offer, answer]) {
      const [audio, video] = mLines(rewritten);
      expect(audio?.media).toBe('audio');
      expect(video?.media).toBe('video');
      expect(video?.formats).toEqual(['96']);
      expect(relayPort(audio!.port) && relayPort(video!.port)).toBe(true);
      expect(audio!.port).not.toBe(video!.port);
      expect(mediaSection(rewritten, 1)).toContain('a=rtpmap:96 H264/90000');
    }
  });
});
