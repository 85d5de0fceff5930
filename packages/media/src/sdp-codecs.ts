/** Encoding names of the static RTP payload types (RFC 3551 §6) that an SDP may use without an rtpmap. */
const STATIC_PAYLOADS: Record<string, string> = {
  '0': 'PCMU/8000',
  '3': 'GSM/8000',
  '4': 'G723/8000',
  '8': 'PCMA/8000',
  '9': 'G722/8000',
  '18': 'G729/8000',
};

/** Formats that carry no voice (RFC 4733 events, comfort noise, redundancy): not shown as codecs. */
const NOT_VOICE = /^(telephone-event|CN|red|ulpfec)\//i;

/**
 * The voice codecs of an SDP's first audio stream, in its order of preference (RFC 3264 §5.1):
 * `encoding/clock rate` from the stream's rtpmap attributes or the static payload table. In an answer
 * the first one is the codec in use.
 */
export function sdpCodecs(sdp: string): string[] {
  const codecs: string[] = [];
  for (const name of sdpPayloadTypes(sdp).values()) {
    if (NOT_VOICE.test(name)) continue;
    // rtpmap may add a channel count (opus/48000/2): the codec is named by encoding and rate.
    codecs.push(name.split('/').slice(0, 2).join('/'));
  }
  return codecs;
}

/**
 * The payload types of an SDP's first audio stream, in the m-line's order, each with its `encoding/clock
 * rate[/channels]` (rtpmap, RFC 4566 §6, or the static table of RFC 3551 §6); unknown dynamic types are
 * left out. Includes telephone-event and comfort noise.
 */
export function sdpPayloadTypes(sdp: string): Map<number, string> {
  const lines = sdp.split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith('m=audio '));
  const types = new Map<number, string>();
  if (start < 0) return types;
  const payloads = lines[start]!.trim().split(/\s+/).slice(3);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('m='));
  const names = new Map<string, string>();
  for (const line of lines.slice(start + 1, end < 0 ? undefined : end)) {
    const match = /^a=rtpmap:(\d+)\s+([^\s]+)/.exec(line.trim());
    if (match) names.set(match[1]!, match[2]!);
  }
  for (const pt of payloads) {
    const name = names.get(pt) ?? STATIC_PAYLOADS[pt];
    if (name !== undefined && /^\d+$/.test(pt)) types.set(Number(pt), name);
  }
  return types;
}
