import { isIPv6 } from 'node:net';
import { MediaError } from './errors.ts';
import type { AddressFamily, NgCodecOptions, NgSdpFlags } from './ng-types.ts';

/**
 * How media is carried on one leg of a call:
 * - `rtp`: plain RTP/AVP, no ICE, RTCP on its own port (SIP phones, gateways, peers).
 * - `srtp-sdes`: RTP/SAVP keyed with SDES a=crypto lines (RFC 4568), no ICE, no DTLS.
 * - `webrtc`: UDP/TLS/RTP/SAVPF keyed with DTLS-SRTP, ICE, rtcp-mux (RFC 8827 / RFC 8829 browsers).
 */
export type LegTransport = 'rtp' | 'srtp-sdes' | 'webrtc';

export interface CodecPolicy {
  /** Keep only these codecs (no transcoding), e.g. ['PCMA', 'PCMU', 'telephone-event']. */
  keepOnly?: string[];
  /** Remove these codecs. */
  strip?: string[];
  /** Hide these codecs from this leg while still accepting them from the other one. */
  mask?: string[];
  /**
   * Offer only these codecs, in this order (rtpengine `mask: all` + `offer`): the other side's codecs
   * not listed are hidden from this leg but still taken from the other side, so that `transcode`
   * can bridge them.
   */
  allow?: string[];
  /** Add these codecs to offers that lack them; rtpengine transcodes (the sides share no codec). */
  transcode?: string[];
  /** Packetisation time (ms) written into offers to this leg; rtpengine repacketises. */
  ptime?: number;
  /**
   * RFC 4733 telephone-event is always offered to this leg: kept by `allow` and added when the other
   * side lacks it (rtpengine then turns this leg's events into in-band tones and detects the other's).
   */
  dtmfEvents?: boolean;
  /**
   * This leg signals DTMF with SIP INFO (application/dtmf-relay), which the B2BUA plays into the call
   * as RFC 4733 events (`playDtmf`): the call is prepared for injection (rtpengine `inject-DTMF`).
   */
  dtmfInfo?: boolean;
}

/** What one leg of a call needs from the relay. Profiles describe endpoints, not calls. */
export interface LegProfile {
  transport: LegTransport;
  /**
   * The endpoint is behind NAT: its SDP addresses are not trusted; rtpengine uses the SIP source address
   * (given per request) until the first media packet arrives and then latches to the real source
   * (symmetric RTP, RFC 4961 behaviour expected of the endpoint).
   */
  behindNat?: boolean;
  /** Codec restrictions applied to SDP sent towards this leg. */
  codecs?: CodecPolicy;
  /**
   * Codec restrictions applied to the offers this leg sends (a carrier calling in: its peer policy),
   * where the leg receiving the offer has no `codecs` of its own. `ptime` is not taken from here: the
   * sender's SDP already says its own packetisation.
   */
  offerCodecs?: CodecPolicy;
  /** Address family of the media address offered to this leg. */
  addressFamily?: AddressFamily;
  /** Named rtpengine interface (`--interface=NAME/IP`) facing this leg, on multi-homed hosts. */
  interface?: string;
  /**
   * SDES crypto suites offered to a `srtp-sdes` leg (default: AES_CM_128_HMAC_SHA1_80 and _32, the
   * RFC 4568 suites every SRTP phone supports). NULL-cipher suites are never offered unless listed here.
   */
  srtpSuites?: SrtpSuite[];
  /**
   * A WebRTC leg's offers towards a non-WebRTC leg get these codecs added when they lack them, and the
   * relay transcodes (a browser offering only Opus calling a G.711 phone). Default `['PCMU', 'PCMA']`;
   * empty: the offer is relayed with the browser's codecs only. Set per domain (`transcodeCodecs`).
   */
  transcodeCodecs?: string[];
}

/** The SDES crypto suites rtpengine 10.5 knows. */
export const SRTP_SUITES = [
  'AEAD_AES_256_GCM',
  'AEAD_AES_128_GCM',
  'AES_256_CM_HMAC_SHA1_80',
  'AES_256_CM_HMAC_SHA1_32',
  'AES_192_CM_HMAC_SHA1_80',
  'AES_192_CM_HMAC_SHA1_32',
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'F8_128_HMAC_SHA1_80',
  'F8_128_HMAC_SHA1_32',
  'NULL_HMAC_SHA1_80',
  'NULL_HMAC_SHA1_32',
] as const;
export type SrtpSuite = (typeof SRTP_SUITES)[number];

const DEFAULT_SRTP_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** The profiles sip-core uses; spread one and override fields for special cases. */
export const profiles = {
  /** A registered SIP phone, assumed behind NAT. */
  natSubscriber: { transport: 'rtp', behindNat: true },
  /** A trusted peer or gateway on a public address: SDP addresses are trusted. */
  publicPeer: { transport: 'rtp' },
  /** A PSTN gateway that only speaks G.711: every other codec is stripped from offers sent to it. */
  g711Gateway: { transport: 'rtp', codecs: { keepOnly: ['PCMA', 'PCMU', 'telephone-event'] } },
  /** A browser (SIP over WebSocket). */
  webrtc: { transport: 'webrtc', behindNat: true },
  /** A SIP phone with SDES-SRTP, behind NAT. */
  srtpSubscriber: { transport: 'srtp-sdes', behindNat: true },
} as const satisfies Record<string, LegProfile>;

export interface SdpFlagContext {
  /** 'offer': SDP from the caller towards the callee; 'answer': the other way. */
  stage: 'offer' | 'answer';
  /** Source address of the SIP message carrying the SDP (needed when the source leg is behind NAT). */
  sourceAddress?: string;
}

/**
 * The NG flags for rewriting SDP that `source` sent and `destination` will receive. Flags about how to
 * read the SDP come from the source profile; flags about how to write it come from the destination profile.
 */
export function sdpFlags(source: LegProfile, destination: LegProfile, context: SdpFlagContext): NgSdpFlags {
  const flags: string[] = [];
  const result: NgSdpFlags = {
    // Topology hiding: the o= and session c= lines must name the relay, not the other party.
    replace: ['origin', 'session-connection'],
  };

  if (source.behindNat && context.sourceAddress !== undefined) {
    // SDP addresses behind NAT are private: send to the SIP source address until the first media packet
    // arrives, then latch to its source. Without a source address rtpengine has nothing better than the
    // SDP address, and latching alone still finds the endpoint once it sends.
    flags.push('SIP-source-address');
    result['received-from'] = [isIPv6(context.sourceAddress) ? 'IP6' : 'IP4', context.sourceAddress];
  }

  switch (destination.transport) {
    case 'rtp':
      result['transport-protocol'] = 'RTP/AVP';
      result.ICE = 'remove';
      result['rtcp-mux'] = ['demux'];
      break;
    case 'srtp-sdes':
      result['transport-protocol'] = 'RTP/SAVP';
      result.ICE = 'remove';
      result.DTLS = 'off';
      result['rtcp-mux'] = ['demux'];
      // rtpengine 10.5 has no "only-<suite>" option: exclude every other suite instead.
      result.SDES = SRTP_SUITES.filter(
        (suite) => !(destination.srtpSuites ?? DEFAULT_SRTP_SUITES).includes(suite),
      ).map((suite) => `no-${suite}`);
      break;
    case 'webrtc':
      result['transport-protocol'] = 'UDP/TLS/RTP/SAVPF';
      result.ICE = 'force';
      result.SDES = ['off'];
      // RFC 8829 5.1.1: browsers require rtcp-mux; offer it, and accept it when answering.
      result['rtcp-mux'] = context.stage === 'offer' ? ['offer'] : ['accept'];
      flags.push('generate-mid');
      break;
  }

  if (destination.addressFamily !== undefined) result['address family'] = destination.addressFamily;

  if (context.stage === 'offer') {
    // The receiving leg's policy, else the offering leg's own (docs/sbc.md, "Codec policy").
    const policy = destination.codecs ?? withoutPtime(source.offerCodecs);
    const codec = withG711Fallback(codecOptions(policy), source, destination);
    if (codec !== undefined) result.codec = codec;
    if (destination.codecs?.ptime !== undefined) result.ptime = destination.codecs.ptime;
    if (source.codecs?.dtmfInfo || destination.codecs?.dtmfInfo) flags.push('inject-DTMF');
    // rtpengine remembers the direction of the offer and reverses it for the answer.
    if (source.interface !== undefined || destination.interface !== undefined) {
      if (source.interface === undefined || destination.interface === undefined) {
        throw new MediaError(
          'invalid-argument',
          'interface selection needs a named interface on both legs (or on neither)',
        );
      }
      result.direction = [source.interface, destination.interface];
    }
  }

  if (flags.length > 0) result.flags = flags;
  return result;
}

const TELEPHONE_EVENT = 'telephone-event';

/** An offering leg's policy as applied to its own offers: without its `ptime` (see `offerCodecs`). */
function withoutPtime(policy: CodecPolicy | undefined): CodecPolicy | undefined {
  if (policy === undefined) return undefined;
  const { ptime: _ptime, ...rest } = policy;
  return rest;
}

/** `list` with `name` appended unless it holds it already (codec names compare case-insensitively). */
function including(list: readonly string[], name: string): string[] {
  return list.some((c) => c.toLowerCase() === name.toLowerCase()) ? [...list] : [...list, name];
}

/**
 * The NG `codec` dictionary of a leg's policy. Measured with rtpengine 10.5: `strip` drops a codec
 * for good (an offerer with only stripped codecs is answered with the added ones, which it never
 * offered), while `mask` hides it from this leg but keeps taking it from the offerer, so an allow-list
 * is `mask: all` with `offer` naming the kept codecs in order, and a `transcode` codec then bridges a
 * caller whose every codec was hidden.
 */
function codecOptions(policy: CodecPolicy | undefined): NgCodecOptions | undefined {
  if (policy === undefined) return undefined;
  const codec: NgCodecOptions = {};
  if (policy.keepOnly !== undefined) {
    codec.strip = ['all'];
    codec.except = [...policy.keepOnly];
  } else if (policy.strip !== undefined && policy.strip.length > 0) {
    codec.strip = [...policy.strip];
  }
  const mask = [...(policy.mask ?? [])];
  if (policy.allow !== undefined && policy.allow.length > 0) {
    mask.splice(0, mask.length, 'all');
    codec.offer = policy.dtmfEvents ? including(policy.allow, TELEPHONE_EVENT) : [...policy.allow];
  }
  if (mask.length > 0) codec.mask = mask;
  const transcode = policy.dtmfEvents
    ? including(policy.transcode ?? [], TELEPHONE_EVENT)
    : [...(policy.transcode ?? [])];
  if (transcode.length > 0) codec.transcode = transcode;
  // The caller keeps RFC 4733 events though the INFO peer answers none: the relay generates them.
  if (policy.dtmfInfo) codec.accept = [TELEPHONE_EVENT];
  return Object.keys(codec).length > 0 ? codec : undefined;
}

/** What a browser's offer towards a SIP leg gets added unless its leg says otherwise: G.711. */
const DEFAULT_TRANSCODE = ['PCMU', 'PCMA'];

/**
 * A browser's offer towards a SIP leg also carries the source leg's `transcodeCodecs` (by default
 * G.711, the one codec every SIP phone and gateway has), transcoded by the relay from what the browser
 * sends (Opus) when the browser did not offer it itself. rtpengine adds a `transcode` codec only when
 * the offer lacks it, so a browser offering PCMU and PCMA (as browsers do) is relayed unchanged and
 * nothing is transcoded. An empty list turns it off.
 */
function withG711Fallback(
  codec: NgCodecOptions | undefined,
  source: LegProfile,
  destination: LegProfile,
): NgCodecOptions | undefined {
  if (source.transport !== 'webrtc' || destination.transport === 'webrtc') return codec;
  const transcode = source.transcodeCodecs ?? DEFAULT_TRANSCODE;
  if (transcode.length === 0) return codec;
  const merged = transcode.reduce((list, name) => including(list, name), codec?.transcode ?? []);
  return { ...codec, transcode: merged };
}
