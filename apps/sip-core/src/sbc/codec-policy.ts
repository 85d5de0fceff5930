import type { CodecPolicy } from '@switchboard/media';

/** The codec policy columns shared by `peer_policies` and `domains` (docs/sbc.md, "Codec policy"). */
export interface CodecPolicyRow {
  codecAllow: string[];
  codecStrip: string[];
  codecMask: string[];
  codecTranscode: string[];
  ptime: number | null;
  dtmfEvents: boolean | null;
}

/** A peer policy's row: the codec columns and how the peer signals DTMF. */
export interface PeerCodecRow extends CodecPolicyRow {
  dtmfInfo?: boolean | null;
}

/** The first list that is set (non-empty), most specific first. */
function firstList(lists: Array<string[] | undefined>): string[] | undefined {
  return lists.find((list) => list !== undefined && list.length > 0);
}

/**
 * The codec policy of offers towards a peer, field by field from the most specific row that sets the
 * field (gateway, then its peering group, then the calling domain): an empty list or NULL inherits.
 * Undefined when no row sets anything (offers pass with the caller's codecs).
 */
export function effectiveCodecPolicy(...rows: Array<PeerCodecRow | undefined>): CodecPolicy | undefined {
  const allow = firstList(rows.map((r) => r?.codecAllow));
  const strip = firstList(rows.map((r) => r?.codecStrip));
  const mask = firstList(rows.map((r) => r?.codecMask));
  const transcode = firstList(rows.map((r) => r?.codecTranscode));
  const ptime = rows.find((r) => r?.ptime != null)?.ptime ?? undefined;
  const dtmfEvents = rows.find((r) => r?.dtmfEvents != null)?.dtmfEvents ?? undefined;
  const dtmfInfo = rows.find((r) => r?.dtmfInfo != null)?.dtmfInfo ?? undefined;
  const policy: CodecPolicy = {
    ...(allow ? { allow } : {}),
    ...(strip ? { strip } : {}),
    ...(mask ? { mask } : {}),
    ...(transcode ? { transcode } : {}),
    ...(ptime !== undefined ? { ptime } : {}),
    ...(dtmfEvents ? { dtmfEvents } : {}),
    ...(dtmfInfo ? { dtmfInfo } : {}),
  };
  return Object.keys(policy).length > 0 ? policy : undefined;
}
