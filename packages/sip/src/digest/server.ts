import { timingSafeEqual } from 'node:crypto';
import { LruMap } from '../collections/lru-map.ts';
import { type AuthHeader, parseAuthHeader } from '../messages/headers.ts';
import { randomInto } from '../messages/random.ts';
import { SipParseError } from '../syntax/errors.ts';
import { quote } from '../syntax/scanner.ts';
import { parseUri, uriEquals } from '../uri/uri.ts';
import {
  type DigestAlgorithm,
  type DigestQop,
  digestHash,
  digestResponse,
  normalizeAlgorithm,
  safeEqual,
} from './digest.ts';
import { MemoryNonceCounts, type NonceCounts } from './nonce-counts.ts';
import { NonceMac } from './nonce-mac.ts';

export interface DigestServerOptions {
  /** Secret for the nonce HMAC (at least 16 bytes). Every node that verifies must share it. */
  secret: string | Buffer;
  /** Nonce lifetime in seconds; older nonces with a correct response are answered stale=true (default 300). */
  nonceTtlSeconds?: number;
  /** Algorithms offered, in order of preference: one challenge header each (default SHA-256, MD5). */
  algorithms?: DigestAlgorithm[];
  /** qop values offered (default ['auth']). */
  qop?: DigestQop[];
  /** How many nonces' last nonce-count are remembered for replay protection (default 10000). */
  nonceCountCacheSize?: number;
  /**
   * Where the last nonce-count of each nonce is kept; default: this process's memory
   * (`nonceCountCacheSize` nonces). Servers sharing the secret pass one shared record.
   */
  nonceCounts?: NonceCounts;
  /**
   * How many of the nonces this server issued are remembered with their issue time, so that checking
   * one needs no MAC (default 10000; 0 turns it off). Others (older, or issued by another node sharing
   * the secret) are checked by their MAC.
   */
  issuedNonceCacheSize?: number;
  /** Clock, milliseconds (tests inject a fake one). */
  now?: () => number;
}

export type DigestFailure =
  | 'not-digest'
  | 'malformed'
  | 'realm-mismatch'
  | 'unsupported-algorithm'
  | 'unsupported-qop'
  | 'bad-nonce'
  | 'uri-mismatch'
  | 'unknown-user'
  | 'bad-response'
  | 'replay';

export type DigestVerification =
  | { ok: true; username: string; algorithm: DigestAlgorithm; qop: DigestQop | undefined }
  /** `stale`: the credentials were right but the nonce expired: challenge again with stale=true. */
  | { ok: false; reason: DigestFailure; stale: boolean; username?: string };

export interface VerifyInput {
  /** The Authorization / Proxy-Authorization value (text or parsed). */
  credentials: string | AuthHeader;
  method: string;
  realm: string;
  /**
   * The request's Request-URI text; when given, the digest uri parameter must designate the same resource
   * (`uri-mismatch` otherwise, checked before any hashing). Omitted: any uri is accepted that the response
   * was computed over (it is inside the hash), as many servers do for clients such as sipp.
   */
  requestUri?: string;
  body?: Buffer;
  /**
   * Look up the stored HA1 (hex) of `username` in `realm` for the algorithm's base hash ('MD5',
   * 'SHA-256', 'SHA-512-256'); undefined when the user is unknown.
   */
  lookupHa1: (
    username: string,
    realm: string,
    algorithm: 'MD5' | 'SHA-256' | 'SHA-512-256',
  ) => string | undefined | Promise<string | undefined>;
}

/** The algorithm whose stored HA1 an algorithm uses (a -sess variant its base's). */
const SESSION_BASE: Record<DigestAlgorithm, 'MD5' | 'SHA-256' | 'SHA-512-256'> = {
  MD5: 'MD5',
  'MD5-sess': 'MD5',
  'SHA-256': 'SHA-256',
  'SHA-256-sess': 'SHA-256',
  'SHA-512-256': 'SHA-512-256',
  'SHA-512-256-sess': 'SHA-512-256',
};

const TS_BYTES = 8;
const RANDOM_BYTES = 12;
const MAC_BYTES = 16;

/**
 * Stateless digest server: nonces are `timestamp | random | HMAC(secret, timestamp | random | realm)`,
 * so any node holding the secret can verify them without storing anything. Only the last nonce-count
 * per nonce is kept (`NonceCounts`) to refuse replays.
 */
export class DigestServer {
  private readonly ttlMs: number;
  readonly algorithms: DigestAlgorithm[];
  readonly qop: DigestQop[];
  private readonly nonceCounts: NonceCounts;
  /** Nonces issued here, oldest first, with their issue time (milliseconds). */
  private readonly issued: LruMap<string, number>;
  private readonly issuedCacheSize: number;
  private readonly now: () => number;
  private readonly nonceMac: NonceMac;

  constructor(options: DigestServerOptions) {
    const secret = Buffer.isBuffer(options.secret) ? options.secret : Buffer.from(options.secret, 'utf8');
    if (secret.length < 16) throw new RangeError('digest nonce secret must be at least 16 bytes');
    this.nonceMac = new NonceMac(secret);
    this.ttlMs = (options.nonceTtlSeconds ?? 300) * 1000;
    this.algorithms = options.algorithms ?? ['SHA-256', 'MD5'];
    this.qop = options.qop ?? ['auth'];
    this.nonceCounts = options.nonceCounts ?? new MemoryNonceCounts(options.nonceCountCacheSize ?? 10000);
    this.issuedCacheSize = options.issuedNonceCacheSize ?? 10000;
    this.issued = new LruMap(this.issuedCacheSize);
    this.now = options.now ?? Date.now;
  }

  private mac(body: Buffer, realm: string): Buffer {
    return this.nonceMac.digest(body, realm).subarray(0, MAC_BYTES);
  }

  /** A new nonce bound to `realm` and the current time. */
  createNonce(realm: string): string {
    const raw = Buffer.allocUnsafe(TS_BYTES + RANDOM_BYTES + MAC_BYTES);
    const body = raw.subarray(0, TS_BYTES + RANDOM_BYTES);
    const issuedAt = Math.floor(this.now());
    // 64-bit big-endian milliseconds: two zero bytes, then 48 bits (enough until the year 10889).
    body.writeUInt16BE(0, 0);
    body.writeUIntBE(issuedAt, 2, 6);
    randomInto(body, TS_BYTES, RANDOM_BYTES);
    this.mac(body, realm).copy(raw, TS_BYTES + RANDOM_BYTES);
    const nonce = raw.toString('base64url');
    if (this.issuedCacheSize > 0) {
      // The realm is part of the key: a nonce is valid only for the realm it was made for.
      this.issued.set(`${realm}\u0000${nonce}`, issuedAt);
    }
    return nonce;
  }

  /** 'valid', 'stale' (authentic but too old) or 'invalid' (forged, corrupted, other realm, future). */
  checkNonce(nonce: string, realm: string): 'valid' | 'stale' | 'invalid' {
    if (nonce.length > 64) return 'invalid';
    // Issued here and still remembered: authentic without computing its MAC (two SHA-256 hashes).
    const issuedAt = this.issuedCacheSize > 0 ? this.issued.get(`${realm}\u0000${nonce}`) : undefined;
    if (issuedAt !== undefined) return this.age(issuedAt);
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== TS_BYTES + RANDOM_BYTES + MAC_BYTES || raw.toString('base64url') !== nonce)
      return 'invalid';
    const body = raw.subarray(0, TS_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(raw.subarray(TS_BYTES + RANDOM_BYTES), this.mac(body, realm))) return 'invalid';
    return this.age(Number(body.readBigUInt64BE(0)));
  }

  private age(issuedAt: number): 'valid' | 'stale' | 'invalid' {
    const age = this.now() - issuedAt;
    if (age < -5000) return 'invalid'; // issued in the future: clock skew beyond tolerance or forgery
    return age > this.ttlMs ? 'stale' : 'valid';
  }

  /**
   * Challenge header values (WWW-Authenticate for a registrar/UAS, Proxy-Authenticate for a proxy):
   * one per configured algorithm, SHA-256 first (RFC 8760 §2.4), sharing one nonce.
   */
  challenge(realm: string, options: { stale?: boolean } = {}): string[] {
    const nonce = this.createNonce(realm);
    const qop = this.qop.length > 0 ? `, qop=${quote(this.qop.join(','))}` : '';
    const stale = options.stale ? ', stale=true' : '';
    return this.algorithms.map(
      (algorithm) =>
        `Digest realm=${quote(realm)}, nonce=${quote(nonce)}, algorithm=${algorithm}${qop}${stale}`,
    );
  }

  /** Verify credentials against the stored HA1 (the server never needs the password). */
  async verify(input: VerifyInput): Promise<DigestVerification> {
    let auth: AuthHeader;
    try {
      auth =
        typeof input.credentials === 'string'
          ? parseAuthHeader(input.credentials, 'authorization')
          : input.credentials;
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      const scheme = (input.credentials as string).trim().split(/[ \t]/, 1)[0] ?? '';
      return {
        ok: false,
        reason: scheme.toLowerCase() === 'digest' ? 'malformed' : 'not-digest',
        stale: false,
      };
    }
    if (auth.scheme.toLowerCase() !== 'digest') return { ok: false, reason: 'not-digest', stale: false };
    const p = auth.params;
    const { username, realm, nonce, uri, response } = p;
    if (!username || realm === undefined || !nonce || !uri || !response) {
      return { ok: false, reason: 'malformed', stale: false };
    }
    if (realm !== input.realm) return { ok: false, reason: 'realm-mismatch', stale: false, username };
    const algorithm = normalizeAlgorithm(p.algorithm);
    if (!algorithm || !this.algorithms.includes(algorithm)) {
      return { ok: false, reason: 'unsupported-algorithm', stale: false, username };
    }
    let qop: DigestQop | undefined;
    let nc: number | undefined;
    if (p.qop !== undefined) {
      const q = p.qop.toLowerCase();
      if ((q !== 'auth' && q !== 'auth-int') || !this.qop.includes(q)) {
        return { ok: false, reason: 'unsupported-qop', stale: false, username };
      }
      qop = q;
      if (!p.cnonce || !p.nc || !/^[0-9a-fA-F]{8}$/.test(p.nc))
        return { ok: false, reason: 'malformed', stale: false, username };
      nc = Number.parseInt(p.nc, 16);
    } else if (this.qop.length > 0) {
      // we always offer qop, so a client that omits it is answering someone else's challenge or downgrading
      return { ok: false, reason: 'unsupported-qop', stale: false, username };
    }
    const nonceState = this.checkNonce(nonce, input.realm);
    if (nonceState === 'invalid') return { ok: false, reason: 'bad-nonce', stale: false, username };
    if (input.requestUri !== undefined && !sameResource(uri, input.requestUri)) {
      return { ok: false, reason: 'uri-mismatch', stale: false, username };
    }
    const base = SESSION_BASE[algorithm];
    const stored = await input.lookupHa1(username, realm, base);
    // an unknown user costs the same hashing as a known one, so timing does not reveal which names exist
    const ha1 = stored || digestHash(algorithm, `${username}:${realm}:${nonce}`);
    const expected = digestResponse({
      algorithm,
      ha1,
      nonce,
      method: input.method,
      uri,
      qop,
      nc: p.nc,
      cnonce: p.cnonce,
      body: input.body,
    });
    const matches = safeEqual(expected, response.toLowerCase());
    if (!stored) return { ok: false, reason: 'unknown-user', stale: false, username };
    if (!matches) return { ok: false, reason: 'bad-response', stale: false, username };
    if (nonceState === 'stale') return { ok: false, reason: 'bad-nonce', stale: true, username };
    if (nc !== undefined) {
      // nc must increase for each use of a nonce (RFC 7616 §3.4). A record in memory answers at once:
      // no extra turn of the event loop for every authenticated request of a single process.
      const fresh = this.nonceCounts.accept(nonce, nc);
      if (!(typeof fresh === 'boolean' ? fresh : await fresh))
        return { ok: false, reason: 'replay', stale: false, username };
    }
    return { ok: true, username, algorithm, qop };
  }
}

function sameResource(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  try {
    return uriEquals(parseUri(digestUri), parseUri(requestUri));
  } catch {
    return false;
  }
}
