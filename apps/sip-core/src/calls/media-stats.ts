import type { CdrLegMediaStats, CdrMediaStats } from '@switchboard/db';
import type { CallStatistics, LegStatistics } from '@switchboard/media';

function legStats(leg: LegStatistics | undefined): CdrLegMediaStats | undefined {
  if (!leg) return undefined;
  const rtp = leg.streams.filter((s) => s.component === 'rtp');
  const codec = rtp.find((s) => s.codec)?.codec;
  return {
    packetsReceived: rtp.reduce((sum, s) => sum + s.received.packets, 0),
    bytesReceived: rtp.reduce((sum, s) => sum + s.received.bytes, 0),
    ...(codec ? { codec } : {}),
  };
}

/** The relay's view of a call reduced to what a CDR keeps: per leg (by tag) packets and codec. */
export function cdrMediaStats(
  stats: CallStatistics | null,
  aTag: string,
  bTag: string | undefined,
): CdrMediaStats | undefined {
  if (!stats) return undefined;
  const a = legStats(stats.legs.find((l) => l.tag === aTag));
  const b = bTag ? legStats(stats.legs.find((l) => l.tag === bTag)) : undefined;
  return { ...(a ? { a } : {}), ...(b ? { b } : {}) };
}
