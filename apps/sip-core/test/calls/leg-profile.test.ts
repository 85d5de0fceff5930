import {
  type LegProfile,
  type LocalRtpengine,
  profiles,
  RtpengineMedia,
  startLocalRtpengine,
} from '@switchboard/media';
import { allocatePort } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  breaksSrtpPolicy,
  callerLegProfile,
  deviceLegProfile,
  isWebrtcSdp,
} from '../../src/calls/leg-profile.ts';

const log = pino({ level: 'silent' });
const RTP = { min: 33700, max: 33759 };

/** A browser's offer as chromium writes it: DTLS-SRTP, ICE, rtcp-mux, Opus first. */
function browserSdp(port: number): string {
  return `${[
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=msid-semantic: WMS',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 111 0 8 101`,
    'c=IN IP4 127.0.0.1',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host generation 0`,
    'a=ice-ufrag:Wq7c',
    'a=ice-pwd:8mLqoEVqM1nvhDwnkjM9Yzq7',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
  ].join('\r\n')}\r\n`;
}

/** A SIP phone's plain RTP offer (or answer) with G.711 and RFC 4733 events. */
function phoneSdp(port: number, extra: string[] = []): string {
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
    ...extra,
    'a=sendrecv',
  ].join('\r\n')}\r\n`;
}

const SDES = 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj';

describe('which profile a leg gets', () => {
  it('a browser offer is WebRTC by its protocol, or by fingerprint with ICE', () => {
    expect(isWebrtcSdp(browserSdp(9))).toBe(true);
    const loose = browserSdp(9).replace('UDP/TLS/RTP/SAVPF', 'RTP/SAVPF');
    expect(isWebrtcSdp(loose)).toBe(true);
    expect(isWebrtcSdp(phoneSdp(4000))).toBe(false);
    // ICE alone (a SIP phone with ICE) is not WebRTC: no DTLS fingerprint.
    expect(isWebrtcSdp(phoneSdp(4000, ['a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef012345']))).toBe(false);
  });

  it('the caller: WebRTC, SDES-SRTP or the base profile, keeping what the base says of NAT', () => {
    expect(callerLegProfile(browserSdp(9), profiles.natSubscriber)).toEqual({
      transport: 'webrtc',
      behindNat: true,
    });
    expect(callerLegProfile(browserSdp(9), profiles.publicPeer)).toEqual({ transport: 'webrtc' });
    const sdes = phoneSdp(4000, [SDES]).replace('RTP/AVP', 'RTP/SAVP');
    expect(callerLegProfile(sdes, profiles.natSubscriber)).toEqual({
      transport: 'srtp-sdes',
      behindNat: true,
    });
    expect(callerLegProfile(phoneSdp(4000), profiles.natSubscriber)).toBe(profiles.natSubscriber);
    expect(callerLegProfile(undefined, profiles.publicPeer)).toBe(profiles.publicPeer);
    expect(callerLegProfile('', profiles.publicPeer)).toBe(profiles.publicPeer);
  });

  it('a device by the transport it registered over: WebSocket is a browser', () => {
    expect(deviceLegProfile('wss')).toBe(profiles.webrtc);
    expect(deviceLegProfile('ws')).toBe(profiles.webrtc);
    for (const t of ['udp', 'tcp', 'tls'] as const) expect(deviceLegProfile(t)).toBe(profiles.natSubscriber);
  });

  it("a device by its subscriber's SRTP policy: preferred and mandatory get SDES-SRTP, browsers stay WebRTC", () => {
    for (const t of ['udp', 'tcp', 'tls'] as const) {
      expect(deviceLegProfile(t, 'optional')).toBe(profiles.natSubscriber);
      expect(deviceLegProfile(t, 'preferred')).toBe(profiles.srtpSubscriber);
      expect(deviceLegProfile(t, 'mandatory')).toBe(profiles.srtpSubscriber);
    }
    for (const srtp of ['optional', 'preferred', 'mandatory'] as const) {
      expect(deviceLegProfile('wss', srtp)).toBe(profiles.webrtc);
      expect(deviceLegProfile('ws', srtp)).toBe(profiles.webrtc);
    }
  });

  it("the caller by its subscriber's SRTP policy: its offer decides, no offer gets SRTP unless optional", () => {
    const sdes = phoneSdp(4000, [SDES]).replace('RTP/AVP', 'RTP/SAVP');
    for (const srtp of ['optional', 'preferred', 'mandatory'] as const) {
      expect(callerLegProfile(sdes, profiles.natSubscriber, srtp).transport).toBe('srtp-sdes');
      expect(callerLegProfile(browserSdp(9), profiles.natSubscriber, srtp).transport).toBe('webrtc');
    }
    // A plain offer from a `preferred` subscriber is kept plain (the relay converts for the callee).
    expect(callerLegProfile(phoneSdp(4000), profiles.natSubscriber, 'preferred')).toBe(
      profiles.natSubscriber,
    );
    // Late offer (RFC 3261 §13.2.1): the offer is ours, made for the policy.
    expect(callerLegProfile(undefined, profiles.natSubscriber, 'optional')).toBe(profiles.natSubscriber);
    expect(callerLegProfile(undefined, profiles.natSubscriber, 'preferred')).toEqual(profiles.srtpSubscriber);
    expect(callerLegProfile(undefined, profiles.natSubscriber, 'mandatory')).toEqual(profiles.srtpSubscriber);
  });

  it('mandatory SRTP refuses a plain offer only: SDES and DTLS-SRTP pass, as does no offer yet', () => {
    const sdes = phoneSdp(4000, [SDES]).replace('RTP/AVP', 'RTP/SAVP');
    expect(breaksSrtpPolicy(phoneSdp(4000), 'mandatory')).toBe(true);
    // a=crypto on RTP/AVP (opportunistic SRTP, RFC 8643) is not SRTP a mandatory policy can rely on.
    expect(breaksSrtpPolicy(phoneSdp(4000, [SDES]), 'mandatory')).toBe(true);
    // RTP/SAVP without keys: nothing to encrypt with.
    expect(breaksSrtpPolicy(phoneSdp(4000).replace('RTP/AVP', 'RTP/SAVP'), 'mandatory')).toBe(true);
    expect(breaksSrtpPolicy(sdes, 'mandatory')).toBe(false);
    expect(breaksSrtpPolicy(browserSdp(9), 'mandatory')).toBe(false);
    expect(breaksSrtpPolicy(undefined, 'mandatory')).toBe(false);
    expect(breaksSrtpPolicy(phoneSdp(4000), 'preferred')).toBe(false);
    expect(breaksSrtpPolicy(phoneSdp(4000), 'optional')).toBe(false);
  });
});

const mLine = (sdp: string): string => sdp.split(/\r?\n/).find((l) => l.startsWith('m=')) ?? '';
const sdpLines = (sdp: string, prefix: string): string[] =>
  sdp.split(/\r?\n/).filter((l) => l.startsWith(prefix));
const has = (sdp: string, prefix: string): boolean => sdpLines(sdp, prefix).length > 0;

describe('the chosen profiles through rtpengine', () => {
  let rtpengine: LocalRtpengine;
  let media: RtpengineMedia;
  let n = 0;

  beforeAll(async () => {
    const ngPort = await allocatePort({ min: 33760, max: 33799 });
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
    await media?.close();
    await rtpengine?.stop();
  });

  async function call(
    offer: string,
    caller: LegProfile,
    callee: LegProfile,
    answer: (calleeOffer: string) => string,
  ): Promise<{ calleeOffer: string; callerAnswer: string }> {
    n += 1;
    const relayed = await media.offer({
      callId: `leg-profile-${n}@test`,
      fromTag: 'a',
      sdp: offer,
      legProfile: caller,
      otherLegProfile: callee,
      sourceAddress: '127.0.0.1',
    });
    const back = await relayed.session.answer({
      toTag: 'b',
      sdp: answer(relayed.sdp),
      sourceAddress: '127.0.0.1',
    });
    await relayed.session.end();
    return { calleeOffer: relayed.sdp, callerAnswer: back.sdp };
  }

  /** What a browser answers: DTLS active, its own candidate, rtcp-mux (RFC 8829 §5.3.1). */
  const browserAnswer = (port: number) => (offer: string) => {
    expect(has(offer, 'a=setup:')).toBe(true);
    return browserSdp(port).replace('a=setup:actpass', 'a=setup:active').replace(' 0 8 101', ' 0 101');
  };

  function expectWebrtcLeg(sdp: string): void {
    expect(mLine(sdp)).toMatch(/ UDP\/TLS\/RTP\/SAVPF /);
    expect(has(sdp, 'a=fingerprint:')).toBe(true);
    expect(has(sdp, 'a=candidate:')).toBe(true);
    expect(has(sdp, 'a=ice-ufrag:')).toBe(true);
    expect(has(sdp, 'a=rtcp-mux')).toBe(true);
    expect(has(sdp, 'a=crypto:')).toBe(false);
  }

  function expectPlainLeg(sdp: string): void {
    expect(mLine(sdp)).toMatch(/ RTP\/AVP /);
    expect(has(sdp, 'a=candidate:')).toBe(false);
    expect(has(sdp, 'a=ice-ufrag:')).toBe(false);
    expect(has(sdp, 'a=fingerprint:')).toBe(false);
    expect(has(sdp, 'a=crypto:')).toBe(false);
  }

  it('browser calls a SIP phone: the phone is offered plain RTP, the browser answered DTLS-SRTP with ICE', async () => {
    const offer = browserSdp(50000);
    const { calleeOffer, callerAnswer } = await call(
      offer,
      callerLegProfile(offer, profiles.natSubscriber),
      deviceLegProfile('udp'),
      () => phoneSdp(4000),
    );
    expectPlainLeg(calleeOffer);
    expectWebrtcLeg(callerAnswer);
  });

  it('a SIP phone calls a browser: the browser is offered DTLS-SRTP with ICE, the phone answered plain RTP', async () => {
    const offer = phoneSdp(4002);
    const { calleeOffer, callerAnswer } = await call(
      offer,
      callerLegProfile(offer, profiles.natSubscriber),
      deviceLegProfile('wss'),
      browserAnswer(50002),
    );
    expectWebrtcLeg(calleeOffer);
    expectPlainLeg(callerAnswer);
  });

  it('browser to browser: both legs stay DTLS-SRTP with ICE through the relay', async () => {
    const offer = browserSdp(50004);
    const { calleeOffer, callerAnswer } = await call(
      offer,
      callerLegProfile(offer, profiles.natSubscriber),
      deviceLegProfile('wss'),
      browserAnswer(50006),
    );
    expectWebrtcLeg(calleeOffer);
    expectWebrtcLeg(callerAnswer);
  });

  it('a browser offering only Opus calls a G.711 phone: the phone is offered G.711, the browser keeps Opus', async () => {
    const offer = browserSdp(50010)
      .replace(' 111 0 8 101', ' 111 101')
      .replace('a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n', '');
    const { calleeOffer, callerAnswer } = await call(
      offer,
      callerLegProfile(offer, profiles.natSubscriber),
      deviceLegProfile('udp'),
      () => phoneSdp(4006).replace(' 0 8 101', ' 0 101').replace('a=rtpmap:8 PCMA/8000\r\n', ''),
    );
    expectPlainLeg(calleeOffer);
    expect(sdpLines(calleeOffer, 'a=rtpmap:')).toEqual(
      expect.arrayContaining([expect.stringMatching(/ PCMU\/8000$/)]),
    );
    expectWebrtcLeg(callerAnswer);
    // The relay answers the browser in the codec it offered and transcodes to the phone's PCMU.
    expect(mLine(callerAnswer).split(' ')[3]).toBe('111');
    expect(sdpLines(callerAnswer, 'a=rtpmap:111 ')).toEqual(['a=rtpmap:111 opus/48000/2']);
  });

  it('an SDES-SRTP phone calls a browser: its answer keeps its own SRTP, the browser gets no a=crypto', async () => {
    const offer = phoneSdp(4004, [SDES]).replace('RTP/AVP', 'RTP/SAVP');
    const { calleeOffer, callerAnswer } = await call(
      offer,
      callerLegProfile(offer, profiles.natSubscriber),
      deviceLegProfile('wss'),
      browserAnswer(50008),
    );
    expectWebrtcLeg(calleeOffer);
    expect(mLine(callerAnswer)).toMatch(/ RTP\/SAVP /);
    expect(has(callerAnswer, 'a=crypto:')).toBe(true);
    expect(has(callerAnswer, 'a=fingerprint:')).toBe(false);
  });

  it('a plain phone calls a subscriber with SRTP preferred: the callee gets RTP/SAVP with a=crypto, the caller plain RTP', async () => {
    const offer = phoneSdp(4010);
    const { calleeOffer, callerAnswer } = await call(
      offer,
      callerLegProfile(offer, profiles.natSubscriber, 'optional'),
      deviceLegProfile('tls', 'preferred'),
      (relayed) => {
        const crypto = sdpLines(relayed, 'a=crypto:')[0] ?? '';
        return phoneSdp(4012, [crypto]).replace('RTP/AVP', 'RTP/SAVP');
      },
    );
    expect(mLine(calleeOffer)).toMatch(/ RTP\/SAVP /);
    const suites = sdpLines(calleeOffer, 'a=crypto:').map((l) => l.split(' ')[1]);
    expect(suites).toEqual(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']);
    expectPlainLeg(callerAnswer);
  });
});
