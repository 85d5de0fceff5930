/**
 * G.711 (ITU-T G.711) companding between 16-bit linear PCM and 8-bit µ-law (PCMU, RTP payload type 0)
 * or A-law (PCMA, payload type 8), as RFC 3551 §4.5.14 carries them.
 */

export type G711Codec = 'PCMU' | 'PCMA';

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32_635;

function encodeMulaw(sample: number): number {
  let pcm = sample;
  const sign = pcm < 0 ? 0x80 : 0;
  if (sign) pcm = -pcm;
  if (pcm > MULAW_CLIP) pcm = MULAW_CLIP;
  pcm += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function decodeMulaw(byte: number): number {
  const value = ~byte & 0xff;
  const exponent = (value >> 4) & 0x07;
  const magnitude = ((((value & 0x0f) << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
  return value & 0x80 ? -magnitude : magnitude;
}

function encodeAlaw(sample: number): number {
  let pcm = sample;
  const sign = pcm >= 0 ? 0x80 : 0;
  if (!sign) pcm = -pcm - 1;
  if (pcm > 32_767) pcm = 32_767;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = exponent === 0 ? (pcm >> 4) & 0x0f : (pcm >> (exponent + 3)) & 0x0f;
  return ((sign | (exponent << 4) | mantissa) ^ 0x55) & 0xff;
}

function decodeAlaw(byte: number): number {
  const value = byte ^ 0x55;
  const exponent = (value >> 4) & 0x07;
  let magnitude = ((value & 0x0f) << 4) + 8;
  if (exponent !== 0) magnitude = (magnitude + 0x100) << (exponent - 1);
  return value & 0x80 ? magnitude : -magnitude;
}

/** Lookup tables: decoding is one index per sample. */
const MULAW_DECODE = Int16Array.from({ length: 256 }, (_, i) => decodeMulaw(i));
const ALAW_DECODE = Int16Array.from({ length: 256 }, (_, i) => decodeAlaw(i));

/** Encodes 16-bit samples into one G.711 byte each. */
export function encodeG711(codec: G711Codec, samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length);
  const encode = codec === 'PCMU' ? encodeMulaw : encodeAlaw;
  for (let i = 0; i < samples.length; i++) out[i] = encode(samples[i] ?? 0);
  return out;
}

/** Decodes G.711 bytes into 16-bit samples. */
export function decodeG711(codec: G711Codec, payload: Uint8Array): Int16Array {
  const table = codec === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
  const out = new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = table[payload[i] ?? 0] ?? 0;
  return out;
}

/** The byte of digital silence (a linear 0) of each law. */
export const G711_SILENCE: Record<G711Codec, number> = { PCMU: 0xff, PCMA: 0xd5 };
