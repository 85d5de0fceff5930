import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';

// Just enough SRTP (RFC 3711) for tests: AES_CM_128_HMAC_SHA1_80, key derivation rate 0, ROC 0,
// RTP headers without CSRCs or extensions.

export interface SrtpContext {
  encryptionKey: Buffer;
  authKey: Buffer;
  salt: Buffer;
}

/** Master key and salt from an SDES `inline:` parameter (RFC 4568 6.1: base64 of key || salt). */
export function srtpFromInline(inline: string): SrtpContext {
  const material = Buffer.from(inline.split('|')[0]!, 'base64');
  if (material.length !== 30) throw new Error(`expected 30 bytes of key material, got ${material.length}`);
  const masterKey = material.subarray(0, 16);
  const masterSalt = material.subarray(16, 30);
  return {
    encryptionKey: derive(masterKey, masterSalt, 0x00, 16),
    authKey: derive(masterKey, masterSalt, 0x01, 20),
    salt: derive(masterKey, masterSalt, 0x02, 14),
  };
}

/** RFC 3711 4.3.1 / 4.3.3: AES-CM PRF keyed with the master key, IV = (label || r) XOR salt, shifted 16. */
function derive(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  iv[7]! ^= label;
  const cipher = createCipheriv('aes-128-ctr', masterKey, iv);
  return cipher.update(Buffer.alloc(length));
}

/** RFC 3711 4.1.1: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16). */
function packetIv(context: SrtpContext, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  context.salt.copy(iv, 0);
  const ssrcBytes = Buffer.alloc(4);
  ssrcBytes.writeUInt32BE(ssrc >>> 0);
  for (let i = 0; i < 4; i++) iv[4 + i]! ^= ssrcBytes[i]!;
  const indexBytes = Buffer.alloc(6);
  indexBytes.writeUIntBE(index, 0, 6);
  for (let i = 0; i < 6; i++) iv[8 + i]! ^= indexBytes[i]!;
  return iv;
}

function authTag(context: SrtpContext, authenticated: Buffer, roc: number): Buffer {
  const rocBytes = Buffer.alloc(4);
  rocBytes.writeUInt32BE(roc);
  return createHmac('sha1', context.authKey).update(authenticated).update(rocBytes).digest().subarray(0, 10);
}

export function protect(context: SrtpContext, rtp: Buffer): Buffer {
  const seq = rtp.readUInt16BE(2);
  const ssrc = rtp.readUInt32BE(8);
  const cipher = createCipheriv('aes-128-ctr', context.encryptionKey, packetIv(context, ssrc, seq));
  const packet = Buffer.concat([rtp.subarray(0, 12), cipher.update(rtp.subarray(12))]);
  return Buffer.concat([packet, authTag(context, packet, 0)]);
}

/** Verifies the tag and decrypts; throws when authentication fails. */
export function unprotect(context: SrtpContext, srtp: Buffer): Buffer {
  const packet = srtp.subarray(0, srtp.length - 10);
  const tag = srtp.subarray(srtp.length - 10);
  if (!timingSafeEqual(tag, authTag(context, packet, 0))) throw new Error('SRTP authentication failed');
  const seq = packet.readUInt16BE(2);
  const ssrc = packet.readUInt32BE(8);
  const cipher = createCipheriv('aes-128-ctr', context.encryptionKey, packetIv(context, ssrc, seq));
  return Buffer.concat([packet.subarray(0, 12), cipher.update(packet.subarray(12))]);
}
