import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseRtpengineNg } from '../src/config.ts';
import { codeForErrorReason, MediaError } from '../src/errors.ts';
import { RtpenginePool } from '../src/pool.ts';
import { type CodecPolicy, profiles, sdpFlags } from '../src/profiles.ts';
import { callStatistics } from '../src/stats.ts';

const logger = pino({ level: 'silent' });

describe('parseRtpengineNg', () => {
  it('reads host:port lists with optional weights', () => {
    expect(parseRtpengineNg('127.0.0.1:22222')).toEqual([{ host: '127.0.0.1', port: 22222, weight: 1 }]);
    expect(parseRtpengineNg(' rtp1.example.net:2223=3 , 10.0.0.2:2223 ')).toEqual([
      { host: 'rtp1.example.net', port: 2223, weight: 3 },
      { host: '10.0.0.2', port: 2223, weight: 1 },
    ]);
  });

  it.each([
    '',
    ',',
    '127.0.0.1',
    '127.0.0.1:0',
    '127.0.0.1:70000',
    'a:1=0',
    '[::1]:2222',
    'a:1,a:1',
    'udp:a:1',
  ])('rejects %j with an invalid-config error', (value) => {
    expect(() => parseRtpengineNg(value)).toThrow(MediaError);
    try {
      parseRtpengineNg(value);
    } catch (err) {
      expect((err as MediaError).code).toBe('invalid-config');
    }
  });
});

describe('codeForErrorReason', () => {
  it('maps rtpengine 10.5 error texts to stable codes', () => {
    expect(codeForErrorReason('Unknown call-id')).toBe('unknown-call');
    expect(codeForErrorReason('Unknown from-tag')).toBe('unknown-tag');
    expect(codeForErrorReason('Failed to parse SDP')).toBe('bad-sdp');
    expect(codeForErrorReason('Incomplete SDP specification')).toBe('bad-sdp');
    expect(codeForErrorReason('Ran out of ports')).toBe('no-ports');
    expect(codeForErrorReason('Unknown command')).toBe('unsupported');
    expect(codeForErrorReason('something new')).toBe('rtpengine');
  });

  it('says which failures are the instance’s fault (fail over) and which are the request’s', () => {
    expect(new MediaError('timeout', 't').instanceFault).toBe(true);
    expect(new MediaError('overloaded', 'o').instanceFault).toBe(true);
    expect(new MediaError('bad-sdp', 'b').instanceFault).toBe(false);
    expect(new MediaError('unknown-call', 'u').instanceFault).toBe(false);
  });
});

describe('sdpFlags', () => {
  it('NAT source: SIP source address and received-from, only when the source address is known', () => {
    const flags = sdpFlags(profiles.natSubscriber, profiles.publicPeer, {
      stage: 'offer',
      sourceAddress: '203.0.113.5',
    });
    expect(flags.flags).toContain('SIP-source-address');
    expect(flags['received-from']).toEqual(['IP4', '203.0.113.5']);
    expect(flags.replace).toEqual(['origin', 'session-connection']);
    expect(flags.ICE).toBe('remove');
    const v6 = sdpFlags(profiles.natSubscriber, profiles.publicPeer, {
      stage: 'offer',
      sourceAddress: '2001:db8::1',
    });
    expect(v6['received-from']).toEqual(['IP6', '2001:db8::1']);
    const unknown = sdpFlags(profiles.natSubscriber, profiles.publicPeer, { stage: 'offer' });
    expect(unknown.flags ?? []).not.toContain('SIP-source-address');
    const trusted = sdpFlags(profiles.publicPeer, profiles.publicPeer, {
      stage: 'offer',
      sourceAddress: '203.0.113.5',
    });
    expect(trusted['received-from']).toBeUndefined();
  });

  it('destination transport decides protocol, ICE, DTLS, SDES and rtcp-mux', () => {
    expect(sdpFlags(profiles.publicPeer, profiles.webrtc, { stage: 'offer' })).toMatchObject({
      'transport-protocol': 'UDP/TLS/RTP/SAVPF',
      ICE: 'force',
      SDES: ['off'],
      'rtcp-mux': ['offer'],
    });
    expect(sdpFlags(profiles.publicPeer, profiles.webrtc, { stage: 'answer' })['rtcp-mux']).toEqual([
      'accept',
    ]);
    expect(sdpFlags(profiles.webrtc, profiles.srtpSubscriber, { stage: 'offer' })).toMatchObject({
      'transport-protocol': 'RTP/SAVP',
      ICE: 'remove',
      DTLS: 'off',
      'rtcp-mux': ['demux'],
    });
    const gcm = sdpFlags(
      profiles.webrtc,
      { transport: 'srtp-sdes', srtpSuites: ['AEAD_AES_256_GCM'] },
      { stage: 'offer' },
    );
    expect(gcm.SDES).toHaveLength(11);
    expect(gcm.SDES).toContain('no-NULL_HMAC_SHA1_80');
    expect(gcm.SDES).not.toContain('no-AEAD_AES_256_GCM');
    expect(sdpFlags(profiles.webrtc, profiles.publicPeer, { stage: 'offer' })).toMatchObject({
      'transport-protocol': 'RTP/AVP',
      ICE: 'remove',
      'rtcp-mux': ['demux'],
    });
  });

  it("a browser's offer towards a SIP leg may be transcoded to G.711; towards a browser it is not", () => {
    expect(sdpFlags(profiles.webrtc, profiles.natSubscriber, { stage: 'offer' }).codec).toEqual({
      transcode: ['PCMU', 'PCMA'],
    });
    expect(sdpFlags(profiles.webrtc, profiles.g711Gateway, { stage: 'offer' }).codec).toEqual({
      strip: ['all'],
      except: ['PCMA', 'PCMU', 'telephone-event'],
      transcode: ['PCMU', 'PCMA'],
    });
    expect(sdpFlags(profiles.webrtc, profiles.webrtc, { stage: 'offer' }).codec).toBeUndefined();
    expect(sdpFlags(profiles.natSubscriber, profiles.webrtc, { stage: 'offer' }).codec).toBeUndefined();
    expect(sdpFlags(profiles.webrtc, profiles.natSubscriber, { stage: 'answer' }).codec).toBeUndefined();
  });

  it("the browser leg's transcodeCodecs (its domain's setting) choose what is added; empty adds nothing", () => {
    const browser = (transcodeCodecs: string[]) => ({ ...profiles.webrtc, transcodeCodecs });
    expect(sdpFlags(browser(['PCMA']), profiles.natSubscriber, { stage: 'offer' }).codec).toEqual({
      transcode: ['PCMA'],
    });
    expect(sdpFlags(browser([]), profiles.natSubscriber, { stage: 'offer' }).codec).toBeUndefined();
    expect(sdpFlags(browser([]), profiles.g711Gateway, { stage: 'offer' }).codec).toEqual({
      strip: ['all'],
      except: ['PCMA', 'PCMU', 'telephone-event'],
    });
    expect(sdpFlags(browser(['G722']), profiles.webrtc, { stage: 'offer' }).codec).toBeUndefined();
  });

  it("a peer's codec policy: allow-list as mask all + offer in order, transcode, ptime, RFC 4733 events", () => {
    const peer = (codecs: CodecPolicy) => ({ ...profiles.publicPeer, codecs });
    const ordered = sdpFlags(profiles.natSubscriber, peer({ allow: ['PCMU', 'PCMA'], ptime: 30 }), {
      stage: 'offer',
    });
    expect(ordered.codec).toEqual({ mask: ['all'], offer: ['PCMU', 'PCMA'] });
    expect(ordered.ptime).toBe(30);
    // ptime and codecs are written into offers only; rtpengine keeps them for the answer.
    expect(
      sdpFlags(profiles.natSubscriber, peer({ allow: ['PCMA'], ptime: 30 }), { stage: 'answer' }),
    ).not.toHaveProperty('ptime');
    expect(
      sdpFlags(profiles.natSubscriber, peer({ allow: ['PCMA'], transcode: ['PCMA'], dtmfEvents: true }), {
        stage: 'offer',
      }).codec,
    ).toEqual({ mask: ['all'], offer: ['PCMA', 'telephone-event'], transcode: ['PCMA', 'telephone-event'] });
    expect(
      sdpFlags(profiles.natSubscriber, peer({ strip: ['G729'], mask: ['G722'] }), { stage: 'offer' }).codec,
    ).toEqual({ strip: ['G729'], mask: ['G722'] });
    // A peer sending DTMF as INFO: the call is prepared for injection, the caller keeps its events.
    const info = sdpFlags(profiles.natSubscriber, peer({ dtmfInfo: true }), { stage: 'offer' });
    expect(info.codec).toEqual({ accept: ['telephone-event'] });
    expect(info.flags).toContain('inject-DTMF');
    // A browser calling such a peer: the domain's G.711 joins the peer's transcode list once each.
    expect(
      sdpFlags(profiles.webrtc, peer({ allow: ['PCMA'], transcode: ['PCMA'] }), { stage: 'offer' }).codec,
    ).toEqual({ mask: ['all'], offer: ['PCMA'], transcode: ['PCMA', 'PCMU'] });
  });

  it("a calling carrier's policy shapes its own offers towards a leg without a policy, never its ptime", () => {
    const carrier = { ...profiles.publicPeer, offerCodecs: { strip: ['G729'], ptime: 30 } };
    const towardsPhone = sdpFlags(carrier, profiles.natSubscriber, { stage: 'offer' });
    expect(towardsPhone.codec).toEqual({ strip: ['G729'] });
    expect(towardsPhone).not.toHaveProperty('ptime');
    // A leg with a policy of its own (another carrier) keeps it.
    const other = { ...profiles.publicPeer, codecs: { allow: ['PCMA'] } };
    expect(sdpFlags(carrier, other, { stage: 'offer' }).codec).toEqual({ mask: ['all'], offer: ['PCMA'] });
    expect(sdpFlags(carrier, profiles.natSubscriber, { stage: 'answer' }).codec).toBeUndefined();
  });

  it('codec policy and interfaces apply to offers only; one-sided interface selection is refused', () => {
    const offer = sdpFlags(profiles.publicPeer, profiles.g711Gateway, { stage: 'offer' });
    expect(offer.codec).toEqual({ strip: ['all'], except: ['PCMA', 'PCMU', 'telephone-event'] });
    expect(sdpFlags(profiles.g711Gateway, profiles.g711Gateway, { stage: 'answer' }).codec).toBeUndefined();
    const pub = { transport: 'rtp', interface: 'pub' } as const;
    const priv = { transport: 'rtp', interface: 'priv', addressFamily: 'IP6' } as const;
    expect(sdpFlags(pub, priv, { stage: 'offer' }).direction).toEqual(['pub', 'priv']);
    expect(sdpFlags(pub, priv, { stage: 'offer' })['address family']).toBe('IP6');
    expect(sdpFlags(priv, pub, { stage: 'answer' }).direction).toBeUndefined();
    expect(() => sdpFlags(pub, profiles.publicPeer, { stage: 'offer' })).toThrow(/both legs/);
  });
});

describe('RtpenginePool selection', () => {
  function pool(random: () => number): RtpenginePool {
    return new RtpenginePool({
      instances: [
        { host: '127.0.0.1', port: 1, weight: 3 },
        { host: '127.0.0.1', port: 2, weight: 1 },
      ],
      logger,
      healthIntervalMs: 0,
      random,
    });
  }

  it('orders candidates by weight and puts unhealthy instances last', () => {
    const low = pool(() => 0.1);
    const high = pool(() => 0.9);
    try {
      // 0.1 * 4 = 0.4 falls in the first instance's share [0, 3); 0.9 * 4 = 3.6 in the second's [3, 4).
      expect(low.candidates().map((i) => i.address)).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
      expect(high.candidates().map((i) => i.address)).toEqual(['127.0.0.1:2', '127.0.0.1:1']);
      high.markUnhealthy(high.instances[1]!, 'test');
      expect(high.candidates().map((i) => i.address)).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    } finally {
      low.close();
      high.close();
    }
  });

  it('shares calls in proportion to weight', () => {
    let seed = 42;
    // A small deterministic LCG so the proportion is reproducible.
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const p = pool(random);
    try {
      let first = 0;
      for (let i = 0; i < 4000; i++) if (p.candidates()[0]?.address === '127.0.0.1:1') first++;
      expect(first / 4000).toBeGreaterThan(0.7);
      expect(first / 4000).toBeLessThan(0.8);
    } finally {
      p.close();
    }
  });

  it('pins calls to instances and counts them', () => {
    const p = pool(() => 0.5);
    try {
      const [a, b] = p.instances;
      p.pin('c1', a!);
      p.pin('c1', a!);
      p.pin('c2', b!);
      expect(p.instanceFor('c1')).toBe(a);
      expect(p.health().map((h) => h.calls)).toEqual([1, 1]);
      p.unpin('c1');
      p.unpin('c1');
      expect(p.instanceFor('c1')).toBeUndefined();
      expect(p.health().map((h) => h.calls)).toEqual([0, 1]);
    } finally {
      p.close();
    }
  });
});

describe('callStatistics', () => {
  it('reads counters, legs and MOS from a query reply', () => {
    const stats = callStatistics('c1', '127.0.0.1:22222', {
      result: 'ok',
      created: 1_700_000_000,
      created_us: 500_000,
      totals: { RTP: { packets: 10, bytes: 1720, errors: 0 }, RTCP: { packets: 1, bytes: 80, errors: 0 } },
      tags: {
        a: {
          tag: 'a',
          medias: [
            {
              index: 1,
              type: 'audio',
              protocol: 'RTP/AVP',
              streams: [
                {
                  'local port': 30000,
                  'local address': '127.0.0.1',
                  endpoint: { address: '127.0.0.1', port: 4000 },
                  flags: ['RTP'],
                  stats: { packets: 10, bytes: 1720, errors: 0 },
                },
                { 'local port': 30001, 'local address': '127.0.0.1', endpoint: {}, flags: ['RTCP'] },
              ],
            },
          ],
        },
      },
      SSRC: {
        '1234': {
          'cumulative loss': 2,
          'average MOS': { MOS: 43, jitter: 3, 'packet loss': 1, 'round-trip time': 20 },
          'lowest MOS': { MOS: 40 },
        },
        '5678': { 'cumulative loss': 1, 'average MOS': { MOS: 41, jitter: 7 } },
      },
    });
    expect(stats.totals.rtp).toEqual({ packets: 10, bytes: 1720, errors: 0 });
    expect(stats.createdAt?.toISOString()).toBe('2023-11-14T22:13:20.500Z');
    expect(stats.legs[0]?.streams.map((s) => s.component)).toEqual(['rtp', 'rtcp']);
    expect(stats.legs[0]?.streams[0]).toMatchObject({ remoteAddress: '127.0.0.1', remotePort: 4000 });
    expect(stats.legs[0]?.streams[1]?.remoteAddress).toBeUndefined();
    expect(stats.mos).toBe(4.1);
    expect(stats.ssrc[0]).toMatchObject({ averageMos: 4.3, lowestMos: 4, jitter: 3, roundTripTime: 20 });
    expect(stats.packetsLost).toBe(3);
    expect(stats.jitter).toBe(7);
  });

  it('tolerates an empty reply', () => {
    const stats = callStatistics('c2', 'x', { result: 'ok' });
    expect(stats).toMatchObject({ legs: [], ssrc: [], totals: { rtp: { packets: 0 } } });
    expect(stats.mos).toBeUndefined();
  });
});
