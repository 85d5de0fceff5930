import type { NgCallInfo, NgCounters, NgMosSample } from './ng-types.ts';

export interface PacketCounters {
  packets: number;
  bytes: number;
  errors: number;
}

/** One RTP or RTCP flow as seen on one relay port. */
export interface StreamStatistics {
  mediaIndex: number;
  mediaType: string;
  protocol: string;
  /** Codec in use on the m-line, e.g. `PCMU/8000`, once media flowed. */
  codec?: string;
  component: 'rtp' | 'rtcp';
  localAddress: string;
  localPort: number;
  /** Where the relay sends to / latched on, once known. */
  remoteAddress?: string;
  remotePort?: number;
  /** SSRC of the RTP stream received on this port. */
  ssrc?: number;
  /** Received on this port from the leg. */
  received: PacketCounters;
}

export interface LegStatistics {
  tag: string;
  label?: string;
  streams: StreamStatistics[];
}

/** Quality of one RTP source, from RTCP reports (only present when the endpoints send RTCP). */
export interface SsrcStatistics {
  ssrc: string;
  cumulativeLoss?: number;
  /** MOS on the usual 1.0-5.0 scale. */
  averageMos?: number;
  lowestMos?: number;
  highestMos?: number;
  /** Jitter and round-trip time as rtpengine reports them with the average MOS (ms). */
  jitter?: number;
  roundTripTime?: number;
  packetLoss?: number;
}

/** Per-call media statistics in the shape CDRs store. */
export interface CallStatistics {
  callId: string;
  /** NG address of the instance that relayed the call. */
  instance: string;
  createdAt?: Date;
  totals: { rtp: PacketCounters; rtcp: PacketCounters };
  legs: LegStatistics[];
  ssrc: SsrcStatistics[];
  /** Worst average MOS over all sources, when rtpengine computed one. */
  mos?: number;
  /** Sum of the cumulative loss over all sources, when reported. */
  packetsLost?: number;
  /** Worst jitter over all sources, when reported. */
  jitter?: number;
}

/** Reads a `query` (or `delete`) reply into CallStatistics; unknown or missing fields are left out. */
export function callStatistics(callId: string, instance: string, info: NgCallInfo): CallStatistics {
  const legs: LegStatistics[] = [];
  for (const [key, tag] of Object.entries(info.tags ?? {})) {
    const streams: StreamStatistics[] = [];
    for (const media of tag.medias ?? []) {
      for (const stream of media.streams ?? []) {
        const endpoint = stream.endpoint ?? {};
        const entry: StreamStatistics = {
          mediaIndex: media.index ?? 0,
          mediaType: media.type ?? 'unknown',
          protocol: media.protocol ?? 'unknown',
          component: stream.flags?.includes('RTCP') ? 'rtcp' : 'rtp',
          localAddress: stream['local address'] ?? '',
          localPort: stream['local port'] ?? 0,
          received: counters(stream.stats),
        };
        if (typeof media.codec === 'string') entry.codec = media.codec;
        if (typeof stream.SSRC === 'number') entry.ssrc = stream.SSRC;
        if (typeof endpoint.address === 'string' && endpoint.address !== '') {
          entry.remoteAddress = endpoint.address;
          if (typeof endpoint.port === 'number') entry.remotePort = endpoint.port;
        }
        streams.push(entry);
      }
    }
    const leg: LegStatistics = { tag: typeof tag.tag === 'string' ? tag.tag : key, streams };
    if (typeof tag.label === 'string' && tag.label !== '') leg.label = tag.label;
    legs.push(leg);
  }

  const ssrc: SsrcStatistics[] = [];
  for (const [id, source] of Object.entries(info.SSRC ?? {})) {
    const entry: SsrcStatistics = { ssrc: id };
    if (typeof source['cumulative loss'] === 'number') entry.cumulativeLoss = source['cumulative loss'];
    const average = source['average MOS'];
    setMos(entry, 'averageMos', average);
    setMos(entry, 'lowestMos', source['lowest MOS']);
    setMos(entry, 'highestMos', source['highest MOS']);
    if (typeof average?.jitter === 'number') entry.jitter = average.jitter;
    if (typeof average?.['round-trip time'] === 'number') entry.roundTripTime = average['round-trip time'];
    if (typeof average?.['packet loss'] === 'number') entry.packetLoss = average['packet loss'];
    ssrc.push(entry);
  }

  const stats: CallStatistics = {
    callId,
    instance,
    totals: { rtp: counters(info.totals?.RTP), rtcp: counters(info.totals?.RTCP) },
    legs,
    ssrc,
  };
  if (typeof info.created === 'number') {
    stats.createdAt = new Date(info.created * 1000 + Math.floor((info.created_us ?? 0) / 1000));
  }
  const moses = ssrc.map((s) => s.averageMos).filter((m): m is number => m !== undefined);
  if (moses.length > 0) stats.mos = Math.min(...moses);
  const losses = ssrc.map((s) => s.cumulativeLoss).filter((l): l is number => l !== undefined);
  if (losses.length > 0) stats.packetsLost = losses.reduce((a, b) => a + b, 0);
  const jitters = ssrc.map((s) => s.jitter).filter((j): j is number => j !== undefined);
  if (jitters.length > 0) stats.jitter = Math.max(...jitters);
  return stats;
}

/** True when the reply holds call statistics (rtpengine leaves them out of some delete replies). */
export function hasStatistics(info: NgCallInfo): boolean {
  return info.totals !== undefined || info.tags !== undefined;
}

function counters(c: NgCounters | undefined): PacketCounters {
  return { packets: c?.packets ?? 0, bytes: c?.bytes ?? 0, errors: c?.errors ?? 0 };
}

function setMos(
  entry: SsrcStatistics,
  key: 'averageMos' | 'lowestMos' | 'highestMos',
  sample: NgMosSample | undefined,
): void {
  // rtpengine reports MOS multiplied by 10 as an integer; 0 means "not computed".
  if (typeof sample?.MOS === 'number' && sample.MOS > 0) entry[key] = sample.MOS / 10;
}
