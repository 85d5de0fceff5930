import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeG711, type G711Codec, SAMPLE_RATE, wavHeader } from '@switchboard/media-endpoint';
import { OpusDecoder } from 'opus-decoder';

/**
 * Call recordings from rtpengine's `pcap` recording method (`--recording-dir`, `--recording-method=pcap`):
 * rtpengine writes every RTP packet it receives for a recorded call into `<dir>/pcaps/<call-id>-<n>.pcap`
 * (raw IP, destination = the relay port the packet arrived on) and names that file in
 * `<dir>/metadata/rtpengine-meta-<call-id>-<n>.txt`. This turns such a capture into one stereo WAV with one
 * party per channel. The `proc` method and rtpengine's recording daemon need rtpengine's kernel module;
 * this works with userspace forwarding. Decodes G.711 (PCMU, PCMA) and Opus into an 8 kHz file; packets of
 * other payload types (telephone-event, comfort noise, G.722 and other codecs) are left out.
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

/** Static payload types (RFC 3551 §6) a capture may hold without any SDP at hand. */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'PCMU/8000'],
  [8, 'PCMA/8000'],
]);

/** Payload type → rtpmap encoding (`opus/48000/2`), as sdpPayloadTypes reads an SDP's audio stream. */
export type PayloadTypes = ReadonlyMap<number, string>;

/** A payload's decoder and its RTP clock rate. */
type Codec = { name: G711Codec; clockRate: 8000 } | { name: 'opus'; clockRate: 48000 };

/**
 * The codec of a payload type from its rtpmap name, or undefined for one that is not decoded
 * (telephone-event, comfort noise, G.722 and other codecs are left out).
 */
function codecOf(payloadType: number, types: PayloadTypes | undefined): Codec | undefined {
  const name = types?.get(payloadType) ?? STATIC_PAYLOAD_TYPES.get(payloadType);
  const encoding = name?.split('/')[0]?.toUpperCase();
  if (encoding === 'PCMU' || encoding === 'PCMA') return { name: encoding, clockRate: 8000 };
  // RFC 7587 §4.1: Opus's RTP clock is 48 kHz whatever rate the encoder ran at.
  if (encoding === 'OPUS') return { name: 'opus', clockRate: 48000 };
  return undefined;
}

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
  /**
   * The payload types each party sends (from the SDPs of its leg: sdpPayloadTypes of the offer and the
   * answer); unset, only the static PCMU (0) and PCMA (8) are known.
   */
  payloadTypes?: { left?: PayloadTypes | undefined; right?: PayloadTypes | undefined } | undefined;
  /** Longest recording kept; later audio is cut (default 4 hours). */
  maxSeconds?: number;
}

/** A packet placed in the file: its channel, first sample and codec. */
interface Placed {
  channel: number;
  stream: string;
  at: number;
  codec: Codec;
  packet: CapturedRtp;
}

/**
 * Places each party's audio on its channel: G.711 as it is, Opus (RFC 7587) decoded by libopus at the
 * file's 8 kHz (mono; a stereo stream is mixed down). A packet's position is its RTP timestamp relative
 * to the first packet of its stream (SSRC), that first packet placed at its capture time: jitter in
 * arrival does not move audio, a new SSRC (the phone restarted its stream) is placed where it arrived.
 * Payload types that are not audio (telephone-event, comfort noise) or not decoded are left out.
 */
export async function stereoWav(packets: CapturedRtp[], channels: StereoChannels): Promise<StereoRecording> {
  const maxSamples = (channels.maxSeconds ?? 4 * 3600) * SAMPLE_RATE;
  const types = [channels.payloadTypes?.left, channels.payloadTypes?.right];
  const audio: Array<{ channel: number; codec: Codec; packet: CapturedRtp }> = [];
  for (const packet of packets) {
    const channel = packet.port === channels.left ? 0 : packet.port === channels.right ? 1 : -1;
    const codec = channel < 0 ? undefined : codecOf(packet.payloadType, types[channel]);
    if (codec) audio.push({ channel, codec, packet });
  }
  const firstMs = audio.reduce((min, p) => Math.min(min, p.packet.timeMs), Number.POSITIVE_INFINITY);
  const placed: Placed[] = [];
  const anchors = new Map<string, { timestamp: number; at: number }>();
  for (const { channel, codec, packet } of audio) {
    const stream = `${channel}:${packet.ssrc}:${codec.name}`;
    let anchor = anchors.get(stream);
    if (!anchor) {
      anchor = {
        timestamp: packet.timestamp,
        at: Math.round(((packet.timeMs - firstMs) * SAMPLE_RATE) / 1000),
      };
      anchors.set(stream, anchor);
    }
    // Unsigned 32-bit difference, as a signed offset (a packet reordered before the first is negative).
    const delta = (packet.timestamp - anchor.timestamp) | 0;
    const at = anchor.at + Math.round((delta * SAMPLE_RATE) / codec.clockRate);
    if (at < 0 || at >= maxSamples) continue;
    placed.push({ channel, stream, at, codec, packet });
  }
  const decoded = await decodeAll(placed);
  let length = 0;
  for (const [i, { at }] of placed.entries())
    length = Math.min(maxSamples, Math.max(length, at + (decoded[i]?.length ?? 0)));
  const data = Buffer.alloc(length * 4);
  for (const [i, { channel, at }] of placed.entries()) {
    const samples = decoded[i] ?? new Int16Array();
    const count = Math.min(samples.length, length - at);
    for (let j = 0; j < count; j++) data.writeInt16LE(samples[j]!, (at + j) * 4 + channel * 2);
  }
  return {
    wav: Buffer.concat([wavHeader(data.length, SAMPLE_RATE, 2), data]),
    durationMs: Math.round((length * 1000) / SAMPLE_RATE),
  };
}

/**
 * The samples of each placed packet (same order). Each Opus stream gets a decoder of its own, fed its
 * packets in timestamp order (the decoder carries state from one frame to the next); a repeated
 * timestamp (a duplicate) decodes to nothing.
 */
async function decodeAll(placed: Placed[]): Promise<Array<Int16Array | undefined>> {
  const decoded: Array<Int16Array | undefined> = placed.map(({ codec, packet }) =>
    codec.name === 'opus' ? undefined : decodeG711(codec.name, packet.payload),
  );
  const streams = new Map<string, number[]>();
  for (const [i, { codec, stream }] of placed.entries()) {
    if (codec.name !== 'opus') continue;
    const list = streams.get(stream) ?? [];
    list.push(i);
    streams.set(stream, list);
  }
  for (const indexes of streams.values()) {
    indexes.sort((a, b) => placed[a]!.at - placed[b]!.at);
    const decoder = new OpusDecoder({
      sampleRate: SAMPLE_RATE,
      channels: 1,
      streamCount: 1,
      coupledStreamCount: 0,
      channelMappingTable: [0],
    });
    await decoder.ready;
    try {
      let lastAt = Number.NaN;
      for (const i of indexes) {
        const { at, packet } = placed[i]!;
        if (at === lastAt || packet.payload.length === 0) continue;
        lastAt = at;
        const { channelData, samplesDecoded } = decoder.decodeFrame(packet.payload);
        decoded[i] = toPcm16(channelData[0], samplesDecoded);
      }
    } finally {
      decoder.free();
    }
  }
  return decoded;
}

/** Float samples (-1..1) as 16-bit PCM, clipped. */
function toPcm16(samples: Float32Array | undefined, count: number): Int16Array {
  if (!samples) return new Int16Array();
  const pcm = new Int16Array(Math.min(count, samples.length));
  for (let i = 0; i < pcm.length; i++)
    pcm[i] = Math.min(32767, Math.max(-32768, Math.round((samples[i] ?? 0) * 32767)));
  return pcm;
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
    let text: string;
    try {
      text = await readFile(metadata, 'utf8');
    } catch (err) {
      // Removed since the listing (its capture was stored and removed meanwhile): not a capture any more.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const firstLine = text.split('\n', 1)[0]?.trim();
    if (firstLine) captures.push({ pcap: firstLine, metadata });
  }
  return captures;
}

/** Removes a capture once its audio is kept elsewhere. */
export async function removeCapture(capture: CallCapture): Promise<void> {
  await rm(capture.pcap, { force: true });
  await rm(capture.metadata, { force: true });
}
