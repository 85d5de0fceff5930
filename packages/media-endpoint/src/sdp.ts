import type { G711Codec } from './g711.ts';

/** What the endpoint takes from an SDP offer (RFC 4566, offer/answer of RFC 3264). */
export interface RemoteMedia {
  address: string;
  port: number;
  codec: G711Codec;
  /** Payload type of the chosen codec (0 PCMU, 8 PCMA). */
  payloadType: number;
  /** Payload type of RFC 4733 telephone-event/8000, when offered. */
  eventPayloadType?: number | undefined;
  /** The offer's direction; a held (`inactive`/`sendonly`) stream gets no audio. */
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

export class SdpError extends Error {}

const STATIC: Record<number, G711Codec> = { 0: 'PCMU', 8: 'PCMA' };

/**
 * The first audio stream of an offer and its first PCMU or PCMA format (the offerer's order of
 * preference, RFC 3264 §6.1) with its telephone-event. Throws SdpError when there is none: the
 * caller answers 488.
 */
export function parseOffer(sdp: string): RemoteMedia {
  const lines = sdp.split(/\r?\n/);
  let sessionAddress: string | undefined;
  let media:
    | { port: number; formats: number[]; address?: string; direction?: RemoteMedia['direction'] }
    | undefined;
  const rtpmap = new Map<number, string>();
  let sessionDirection: RemoteMedia['direction'] = 'sendrecv';
  for (const line of lines) {
    if (line.startsWith('m=')) {
      if (media) break; // only the first audio stream
      const [kind, port, , ...formats] = line.slice(2).trim().split(/\s+/);
      if (kind !== 'audio') continue;
      media = { port: Number(port), formats: formats.map(Number).filter((f) => Number.isInteger(f)) };
    } else if (line.startsWith('c=')) {
      const address = line.slice(2).trim().split(/\s+/)[2];
      if (media) media.address = address;
      else sessionAddress = address;
    } else if (line.startsWith('a=rtpmap:') && media) {
      const match = /^a=rtpmap:(\d+)\s+([^/\s]+)\/(\d+)/.exec(line);
      if (match) rtpmap.set(Number(match[1]), `${match[2]?.toLowerCase()}/${match[3]}`);
    } else if (/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/.test(line)) {
      const direction = line.slice(2).trim() as RemoteMedia['direction'];
      if (media) media.direction = direction;
      else sessionDirection = direction;
    }
  }
  if (!media) throw new SdpError('no audio stream in the offer');
  const address = media.address ?? sessionAddress;
  if (!address || !Number.isInteger(media.port) || media.port <= 0 || media.port > 65_535)
    throw new SdpError('no usable connection address or port in the offer');
  const codecOf = (pt: number): G711Codec | undefined => {
    const mapped = rtpmap.get(pt);
    if (mapped === 'pcmu/8000') return 'PCMU';
    if (mapped === 'pcma/8000') return 'PCMA';
    return mapped ? undefined : STATIC[pt];
  };
  const offered = media.formats.filter((pt) => codecOf(pt) !== undefined);
  const chosen = offered[0];
  if (chosen === undefined) throw new SdpError('the offer has neither PCMU nor PCMA');
  const eventPayloadType = media.formats.find((pt) => rtpmap.get(pt) === 'telephone-event/8000');
  return {
    address,
    port: media.port,
    codec: codecOf(chosen) as G711Codec,
    payloadType: chosen,
    eventPayloadType,
    direction: media.direction ?? sessionDirection,
  };
}

const ANSWER_DIRECTION: Record<RemoteMedia['direction'], string> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
};

/** The answer to `remote`: one codec, telephone-event if offered, 20 ms packets. */
export function buildAnswer(
  remote: RemoteMedia,
  localAddress: string,
  localPort: number,
  sessionId: number,
): string {
  const family = localAddress.includes(':') ? 'IP6' : 'IP4';
  const formats = [
    remote.payloadType,
    ...(remote.eventPayloadType !== undefined ? [remote.eventPayloadType] : []),
  ];
  const lines = [
    'v=0',
    `o=switchboard ${sessionId} ${sessionId} IN ${family} ${localAddress}`,
    's=switchboard',
    `c=IN ${family} ${localAddress}`,
    't=0 0',
    `m=audio ${localPort} RTP/AVP ${formats.join(' ')}`,
    `a=rtpmap:${remote.payloadType} ${remote.codec}/8000`,
  ];
  if (remote.eventPayloadType !== undefined)
    lines.push(
      `a=rtpmap:${remote.eventPayloadType} telephone-event/8000`,
      `a=fmtp:${remote.eventPayloadType} 0-15`,
    );
  lines.push('a=ptime:20', `a=${ANSWER_DIRECTION[remote.direction]}`);
  return `${lines.join('\r\n')}\r\n`;
}
