import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeG711, type G711Codec, SAMPLE_RATE, wavHeader } from '@switchboard/media-endpoint';

/**
 * Call recordings from rtpengine's `pcap` recording method (`--recording-dir`, `--recording-method=pcap`):
 * rtpengine writes every RTP packet it receives for a recorded call into `<dir>/pcaps/<call-id>-<n>.pcap`
 * (raw IP, destination = the relay port the packet arrived on) and names that file in
 * `<dir>/metadata/rtpengine-meta-<call-id>-<n>.txt`. This turns such a capture into one stereo WAV with one
 * party per channel. The `proc` method and rtpengine's recording daemon need rtpengine's kernel module;
 * this works with userspace forwarding. Decodes G.711 (PCMU, PCMA); packets of other payload types
 * (telephone-event, comfort noise, other codecs) are left out, so a call in another codec records silence.
 */

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_IPV4 = 228;

/** One RTP packet of a capture: when it arrived and on which relay port. */
export interface CapturedRtp {
  /** Capture time, milliseconds since the epoch. */
  timeMs: number;
  /** UDP destination port: the relay port of the leg that sent it. */
  port: number;
  payloadType: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** The RTP packets of a pcap file (pcap v2.4, either byte order, raw IP or Ethernet); others are skipped. */
export function readPcapRtp(pcap: Buffer): CapturedRtp[] {
  if (pcap.length < 24) throw new Error('not a pcap file: shorter than its header');
  const magic = pcap.readUInt32LE(0);
  const littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!littleEndian && pcap.readUInt32BE(0) !== 0xa1b2c3d4 && pcap.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error('not a pcap file: unknown magic number');
  const nanoseconds = (littleEndian ? magic : pcap.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (offset: number): number =>
    littleEndian ? pcap.readUInt32LE(offset) : pcap.readUInt32BE(offset);
  const linkType = u32(20) & 0xffff;
  const packets: CapturedRtp[] = [];
  let offset = 24;
  while (offset + 16 <= pcap.length) {
    const seconds = u32(offset);
    const fraction = u32(offset + 4);
    const length = u32(offset + 8);
    const start = offset + 16;
    offset = start + length;
    if (offset > pcap.length) break; // a capture cut short (rtpengine killed): the rest is lost
    const timeMs = seconds * 1000 + (nanoseconds ? fraction / 1e6 : fraction / 1e3);
    const udp = udpPayload(pcap.subarray(start, start + length), linkType);
    if (!udp) continue;
    const rtp = udp.payload;
    if (rtp.length < 12 || rtp[0]! >> 6 !== 2) continue;
    const csrcCount = rtp[0]! & 0x0f;
    let headerLength = 12 + csrcCount * 4;
    if (rtp[0]! & 0x10) {
      if (rtp.length < headerLength + 4) continue;
      headerLength += 4 + rtp.readUInt16BE(headerLength + 2) * 4;
    }
    let end = rtp.length;
    if (rtp[0]! & 0x20) end -= rtp[rtp.length - 1]!; // padding (RFC 3550 §5.1)
    if (end < headerLength) continue;
    packets.push({
      timeMs,
      port: udp.port,
      payloadType: rtp[1]! & 0x7f,
      timestamp: rtp.readUInt32BE(4),
      ssrc: rtp.readUInt32BE(8),
      payload: rtp.subarray(headerLength, end),
    });
  }
  return packets;
}

/** The UDP payload and destination port of one captured frame; undefined for anything else. */
function udpPayload(frame: Buffer, linkType: number): { port: number; payload: Buffer } | undefined {
  let ip = frame;
  if (linkType === LINKTYPE_ETHERNET) {
    if (frame.length < 14) return undefined;
    ip = frame.subarray(14);
  } else if (linkType !== LINKTYPE_RAW && linkType !== LINKTYPE_IPV4) return undefined;
  if (ip.length < 1) return undefined;
  const version = ip[0]! >> 4;
  let udp: Buffer;
  if (version === 4) {
    const headerLength = (ip[0]! & 0x0f) * 4;
    if (ip.length < headerLength + 8 || ip[9] !== 17) return undefined;
    udp = ip.subarray(headerLength);
  } else if (version === 6) {
    if (ip.length < 48 || ip[6] !== 17) return undefined; // no extension headers: rtpengine writes none
    udp = ip.subarray(40);
  } else return undefined;
  return { port: udp.readUInt16BE(2), payload: udp.subarray(8) };
}

const CODECS: Record<number, G711Codec> = { 0: 'PCMU', 8: 'PCMA' };

export interface StereoRecording {
  /** A 16-bit PCM WAV file, 8 kHz, two channels. */
  wav: Buffer;
  durationMs: number;
}

export interface StereoChannels {
  /** Relay port the left channel's party sends to (the caller's leg). */
  left: number;
  /** Relay port the right channel's party sends to (the callee's leg). */
  right: number;
  /** Longest recording kept; later audio is cut (default 4 hours). */
  maxSeconds?: number;
}

/**
 * Places each party's G.711 audio on its channel. A packet's position is its RTP timestamp relative to the
 * first packet of its stream (SSRC), that first packet placed at its capture time: jitter in arrival does
 * not move audio, a new SSRC (the phone restarted its stream) is placed where it arrived.
 */
export function stereoWav(packets: CapturedRtp[], channels: StereoChannels): StereoRecording {
  const maxSamples = (channels.maxSeconds ?? 4 * 3600) * SAMPLE_RATE;
  const audio = packets.filter(
    (p) => (p.port === channels.left || p.port === channels.right) && CODECS[p.payloadType],
  );
  const firstMs = audio.reduce((min, p) => Math.min(min, p.timeMs), Number.POSITIVE_INFINITY);
  const placed: Array<{ channel: number; at: number; packet: CapturedRtp }> = [];
  const anchors = new Map<string, { timestamp: number; at: number }>();
  let length = 0;
  for (const packet of audio) {
    const channel = packet.port === channels.left ? 0 : 1;
    const key = `${channel}:${packet.ssrc}`;
    let anchor = anchors.get(key);
    if (!anchor) {
      anchor = {
        timestamp: packet.timestamp,
        at: Math.round(((packet.timeMs - firstMs) * SAMPLE_RATE) / 1000),
      };
      anchors.set(key, anchor);
    }
    // Unsigned 32-bit difference, as a signed offset (a packet reordered before the first is negative).
    const delta = ((packet.timestamp - anchor.timestamp) | 0) as number;
    const at = anchor.at + delta;
    if (at < 0 || at >= maxSamples) continue;
    placed.push({ channel, at, packet });
    length = Math.min(maxSamples, Math.max(length, at + packet.payload.length));
  }
  const data = Buffer.alloc(length * 4);
  for (const { channel, at, packet } of placed) {
    const samples = decodeG711(CODECS[packet.payloadType]!, packet.payload);
    const count = Math.min(samples.length, length - at);
    for (let i = 0; i < count; i++) data.writeInt16LE(samples[i]!, (at + i) * 4 + channel * 2);
  }
  return {
    wav: Buffer.concat([wavHeader(data.length, SAMPLE_RATE, 2), data]),
    durationMs: Math.round((length * 1000) / SAMPLE_RATE),
  };
}

/**
 * Stereo recordings of one call back to back (the segments of a call recorded on demand, started and
 * stopped several times): one file, the time between the segments left out. Each `wav` is what
 * stereoWav made (a 44-byte header).
 */
export function joinStereo(segments: StereoRecording[]): StereoRecording {
  if (segments.length === 1 && segments[0]) return segments[0];
  const data = Buffer.concat(segments.map((s) => s.wav.subarray(44)));
  return {
    wav: Buffer.concat([wavHeader(data.length, SAMPLE_RATE, 2), data]),
    durationMs: Math.round(((data.length / 4) * 1000) / SAMPLE_RATE),
  };
}

/** rtpengine's capture of one call: the pcap and the metadata file naming it. */
export interface CallCapture {
  pcap: string;
  metadata: string;
}

/**
 * The captures rtpengine wrote for `callId` under `recordingDir` (one per recording session; usually one).
 * The metadata file's first line is the pcap's path.
 */
export async function findCallCaptures(recordingDir: string, callId: string): Promise<CallCapture[]> {
  const metadataDir = join(recordingDir, 'metadata');
  let names: string[];
  try {
    names = await readdir(metadataDir);
  } catch {
    return [];
  }
  const prefix = `rtpengine-meta-${callId}-`;
  const captures: CallCapture[] = [];
  for (const name of names) {
    // rtpengine appends a random hex suffix; the call-id itself may contain '-'.
    if (!name.startsWith(prefix) || !/^[0-9a-f]+\.txt$/.test(name.slice(prefix.length))) continue;
    const metadata = join(metadataDir, name);
    const firstLine = (await readFile(metadata, 'utf8')).split('\n', 1)[0]?.trim();
    if (firstLine) captures.push({ pcap: firstLine, metadata });
  }
  return captures;
}

/** Removes a capture once its audio is kept elsewhere. */
export async function removeCapture(capture: CallCapture): Promise<void> {
  await rm(capture.pcap, { force: true });
  await rm(capture.metadata, { force: true });
}
