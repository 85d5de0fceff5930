// Parameters and replies of the rtpengine NG protocol (rtpengine 10.5), with the dictionary keys spelled
// exactly as rtpengine expects them on the wire.

export type TransportProtocol =
  | 'RTP/AVP'
  | 'RTP/AVPF'
  | 'RTP/SAVP'
  | 'RTP/SAVPF'
  | 'UDP/TLS/RTP/SAVP'
  | 'UDP/TLS/RTP/SAVPF';
export type IceOption = 'remove' | 'force' | 'default' | 'force-relay' | 'optional';
export type DtlsOption = 'off' | 'passive' | 'active';
export type RtcpMuxOption = 'offer' | 'demux' | 'accept' | 'reject' | 'require';
export type AddressFamily = 'IP4' | 'IP6';
export type ReplaceOption = 'origin' | 'session-connection' | 'sdp-version' | 'username' | 'session-name';

/** The `codec` dictionary: every list holds codec names (`PCMA`, `opus`, `telephone-event`) or `all`. */
export interface NgCodecOptions {
  /** Remove these codecs from the SDP (no transcoding). */
  strip?: string[];
  /** Exceptions to `strip: ['all']`: keep these. */
  except?: string[];
  /** Hide these codecs from the receiver of the SDP but still accept them from the sender. */
  mask?: string[];
  /** Exceptions to `strip: ['all']` / `mask: ['all']`, moved to the front in this order. */
  offer?: string[];
  /** Add these codecs and transcode to them (needs a transcoding-capable rtpengine). */
  transcode?: string[];
  /** Kept towards the offerer even when the answerer lacks them (rtpengine generates or consumes them). */
  accept?: string[];
}

/** Flags shared by offer and answer. */
export interface NgSdpFlags {
  flags?: string[];
  replace?: ReplaceOption[];
  ICE?: IceOption;
  DTLS?: DtlsOption;
  /** SDES options, e.g. `off` to disable SDES, `only-AES_CM_128_HMAC_SHA1_80` to restrict suites. */
  SDES?: string[];
  'transport-protocol'?: TransportProtocol;
  'rtcp-mux'?: RtcpMuxOption[];
  'address family'?: AddressFamily;
  /** Named logical interfaces: [interface towards the sender of this SDP, interface towards its receiver]. */
  direction?: [string, string];
  /** Where the SIP message carrying the SDP came from; with `SIP-source-address` rtpengine uses it for media. */
  'received-from'?: [AddressFamily, string];
  codec?: NgCodecOptions;
  /** Packetisation time (ms) of the SDP written; rtpengine repacketises (transcoding engine). */
  ptime?: number;
  'record call'?: 'yes' | 'no';
  label?: string;
  'media address'?: string;
}

export interface NgOfferParams extends NgSdpFlags {
  'call-id': string;
  'from-tag': string;
  sdp: string;
  'via-branch'?: string;
}

export interface NgAnswerParams extends NgSdpFlags {
  'call-id': string;
  'from-tag': string;
  'to-tag': string;
  sdp: string;
  'via-branch'?: string;
}

export interface NgCallRef {
  'call-id': string;
  'from-tag'?: string;
  'to-tag'?: string;
  'via-branch'?: string;
}

export interface NgDeleteParams extends NgCallRef {
  flags?: string[];
}

export interface NgListParams {
  /** rtpengine answers at most this many call-ids (its own default is 32). */
  limit?: number;
}

export interface NgPlayMediaParams extends NgCallRef {
  /** A file path on the rtpengine host. Exactly one of file, blob, db-id. */
  file?: string;
  /** Audio file contents. */
  blob?: Buffer;
  'db-id'?: number;
  'repeat-times'?: number;
  'start-pos'?: number;
}

export interface NgPlayDtmfParams extends NgCallRef {
  /** One DTMF event: 0-9, *, #, A-D. */
  code: string;
  /** Milliseconds, rtpengine default 100. */
  duration?: number;
  /** dBm0 below zero, rtpengine default 8. */
  volume?: number;
  pause?: number;
}

export interface NgBlockParams extends NgCallRef {
  /** Apply to every leg of the call. */
  all?: boolean;
}

export interface NgRecordingParams extends NgCallRef {
  'output-destination'?: string;
}

/** Packet counters as rtpengine reports them. */
export interface NgCounters {
  packets?: number;
  bytes?: number;
  errors?: number;
}

export interface NgEndpoint {
  family?: string;
  address?: string;
  port?: number;
}

export interface NgStream {
  'local port'?: number;
  'local address'?: string;
  family?: string;
  endpoint?: NgEndpoint;
  'advertised endpoint'?: NgEndpoint;
  flags?: string[];
  /** SSRC of the RTP stream last received on this port. */
  SSRC?: number;
  stats?: NgCounters;
}

export interface NgMedia {
  index?: number;
  type?: string;
  protocol?: string;
  /** Codec in use, e.g. `PCMU/8000`, once media flows. */
  codec?: string;
  streams?: NgStream[];
  flags?: string[];
}

export interface NgTag {
  tag?: string;
  label?: string;
  created?: number;
  medias?: NgMedia[];
}

/** One MOS sample as rtpengine reports it: MOS is scaled by 10 (43 means 4.3). */
export interface NgMosSample {
  MOS?: number;
  jitter?: number;
  'packet loss'?: number;
  'round-trip time'?: number;
}

export interface NgSsrc {
  'cumulative loss'?: number;
  'average MOS'?: NgMosSample;
  'lowest MOS'?: NgMosSample;
  'highest MOS'?: NgMosSample;
}

/** The reply of `query` (and of `delete` when rtpengine includes statistics). */
export interface NgCallInfo {
  result?: string;
  created?: number;
  created_us?: number;
  'last signal'?: number;
  tags?: Record<string, NgTag>;
  totals?: { RTP?: NgCounters; RTCP?: NgCounters };
  SSRC?: Record<string, NgSsrc>;
}
