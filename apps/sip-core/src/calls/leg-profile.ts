import type { SrtpPolicy } from '@switchboard/db';
import { type LegProfile, profiles } from '@switchboard/media';
import type { BindingTransport } from '../location/binding.ts';

/**
 * Whether an SDP body is a WebRTC endpoint's: a browser's media sections use `UDP/TLS/RTP/SAVPF`
 * (RFC 8827 §6.5, DTLS-SRTP) and carry ICE credentials and a DTLS fingerprint (RFC 8839, RFC 8122).
 * Either the protocol or the fingerprint with ICE marks it, so a gateway that writes the profile
 * loosely (`UDP/TLS/RTP/SAVP`) is still read right.
 */
export function isWebrtcSdp(sdp: string): boolean {
  if (/^m=\S+ \d+(?:\/\d+)? UDP\/TLS\/RTP\/SAVPF?\b/im.test(sdp)) return true;
  return /^a=fingerprint:/im.test(sdp) && /^a=ice-ufrag:/im.test(sdp);
}

/** Whether an SDP body offers SDES-keyed SRTP (RFC 4568): `RTP/SAVP(F)` with `a=crypto` lines. */
function isSdesSdp(sdp: string): boolean {
  return /^m=\S+ \d+(?:\/\d+)? RTP\/SAVPF? /im.test(sdp) && /^a=crypto:/im.test(sdp);
}

/**
 * The profile of a calling leg, from what its offer shows: a browser's offer gets the WebRTC profile
 * (the relay answers it with ICE, DTLS-SRTP and rtcp-mux), an SDES-SRTP phone's the SDES one (answered
 * with its own crypto), anything else the `base` profile (plain RTP). Whether the leg is behind NAT
 * comes from `base`: it depends on where the call came from, not on the media. An INVITE without SDP
 * (the offer comes in our 200, RFC 3261 §13.2.1) from a subscriber whose `srtp` policy is not
 * `optional` is offered SDES-SRTP, as its devices are when called.
 */
export function callerLegProfile(
  sdp: string | undefined,
  base: LegProfile,
  srtp: SrtpPolicy = 'optional',
  /** For a browser: the codecs its offers towards SIP legs get added (its domain's `transcodeCodecs`). */
  transcodeCodecs?: string[],
): LegProfile {
  if (!sdp) return srtp === 'optional' ? base : { ...base, transport: 'srtp-sdes' };
  if (isWebrtcSdp(sdp))
    return { ...base, transport: 'webrtc', ...(transcodeCodecs ? { transcodeCodecs } : {}) };
  if (isSdesSdp(sdp)) return { ...base, transport: 'srtp-sdes' };
  return base;
}

/**
 * Whether a subscriber's offer breaks its `srtp` policy: `mandatory` takes only encrypted media, SDES
 * (RFC 4568) or a browser's DTLS-SRTP (RFC 8827); a plain `RTP/AVP` offer is refused with 488
 * (RFC 3261 §21.4.26). No SDP yet is no breach: our offer in the 200 will be SRTP (callerLegProfile).
 */
export function breaksSrtpPolicy(sdp: string | undefined, srtp: SrtpPolicy): boolean {
  if (srtp !== 'mandatory' || !sdp) return false;
  return !isSdesSdp(sdp) && !isWebrtcSdp(sdp);
}

/**
 * The profile of a registered device before it has sent any SDP: a device registered over WebSocket
 * (RFC 7118) is a browser, which only takes DTLS-SRTP with ICE (RFC 8827); any other one a SIP phone,
 * offered SDES-SRTP when its subscriber's `srtp` policy is `preferred` or `mandatory`, plain RTP when
 * it is `optional`. The relay converts between the legs (RTP/AVP on one, RTP/SAVP on the other).
 */
export function deviceLegProfile(transport: BindingTransport, srtp: SrtpPolicy = 'optional'): LegProfile {
  if (transport === 'ws' || transport === 'wss') return profiles.webrtc;
  return srtp === 'optional' ? profiles.natSubscriber : profiles.srtpSubscriber;
}
