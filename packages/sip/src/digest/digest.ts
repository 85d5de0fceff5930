import * as nodeCrypto from 'node:crypto';
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Digest computations shared by the server and client sides (RFC 3261 §22.4, RFC 7616 §3.4.1,
 * RFC 8760 for SIP's use of SHA-256 and SHA-512/256).
 */
export type DigestAlgorithm =
  | 'MD5'
  | 'MD5-sess'
  | 'SHA-256'
  | 'SHA-256-sess'
  | 'SHA-512-256'
  | 'SHA-512-256-sess';

export type DigestQop = 'auth' | 'auth-int';

const NODE_HASH: Record<string, string> = {
  md5: 'md5',
  'sha-256': 'sha256',
  'sha-512-256': 'sha512-256',
};

/** Canonical spelling of an algorithm token, or undefined if unsupported. Matching is case-insensitive. */
export function normalizeAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5'; // RFC 7616 §3.3: absent means MD5
  switch (value.toLowerCase()) {
    case 'md5':
      return 'MD5';
    case 'md5-sess':
      return 'MD5-sess';
    case 'sha-256':
      return 'SHA-256';
    case 'sha-256-sess':
      return 'SHA-256-sess';
    case 'sha-512-256':
      return 'SHA-512-256';
    case 'sha-512-256-sess':
      return 'SHA-512-256-sess';
    default:
      return undefined;
  }
}

/** Node's hash name per algorithm, sessions included (looked up for every hash of every REGISTER). */
const BASE_HASH: Record<DigestAlgorithm, string> = {
  MD5: 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
  'SHA-512-256': 'sha512-256',
  'SHA-512-256-sess': 'sha512-256',
};

function baseHash(algorithm: DigestAlgorithm): string {
  return BASE_HASH[algorithm] ?? (NODE_HASH[algorithm.toLowerCase().replace(/-sess$/, '')] as string);
}

/**
 * Node's one-shot `crypto.hash` (20.12 and later): about three times cheaper than a Hash object for the
 * short inputs of a digest, which the registrar computes three times per authenticated REGISTER.
 */
const oneShotHash = (nodeCrypto as Partial<typeof nodeCrypto>).hash;

/** H(data) as lower-case hex, with the hash function of `algorithm`. */
export function digestHash(algorithm: DigestAlgorithm, data: string | Buffer): string {
  const name = baseHash(algorithm);
  if (oneShotHash !== undefined) return oneShotHash(name, data, 'hex');
  return createHash(name).update(data).digest('hex');
}

/**
 * HA1 = H(username ":" realm ":" password): what a server stores instead of the password
 * (one value per algorithm; -sess variants store the same HA1 as their base algorithm).
 */
export function digestHa1(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  /** Stored HA1 (hex) for the base algorithm. */
  ha1: string;
  nonce: string;
  method: string;
  /** The digest-uri as sent in the uri parameter. */
  uri: string;
  qop?: DigestQop | undefined;
  /** 8 hex digits, required with qop. */
  nc?: string | undefined;
  cnonce?: string | undefined;
  /** Message body, for qop=auth-int. */
  body?: Buffer | undefined;
}

/** request-digest of RFC 7616 §3.4.1 (and RFC 2069 compatibility when qop is absent). */
export function digestResponse(input: DigestResponseInput): string {
  const { algorithm, nonce, method, uri, qop } = input;
  let ha1 = input.ha1.toLowerCase();
  if (algorithm.endsWith('-sess')) ha1 = digestHash(algorithm, `${ha1}:${nonce}:${input.cnonce ?? ''}`);
  const ha2 =
    qop === 'auth-int'
      ? digestHash(algorithm, `${method}:${uri}:${digestHash(algorithm, input.body ?? Buffer.alloc(0))}`)
      : digestHash(algorithm, `${method}:${uri}`);
  if (qop === undefined) return digestHash(algorithm, `${ha1}:${nonce}:${ha2}`);
  return digestHash(algorithm, `${ha1}:${nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:${qop}:${ha2}`);
}

/** Constant-time string comparison (length leaks, content does not). */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ba.length !== bb.length) {
    timingSafeEqual(ba, ba); // keep the timing of the failure path similar
    return false;
  }
  return timingSafeEqual(ba, bb);
}
