import { randomBytes } from 'node:crypto';
import { LruMap } from '../collections/lru-map.ts';
import { type AuthHeader, parseAuthHeader } from '../messages/headers.ts';
import { quote } from '../syntax/scanner.ts';
import {
  type DigestAlgorithm,
  type DigestQop,
  digestHa1,
  digestResponse,
  normalizeAlgorithm,
} from './digest.ts';

export interface DigestCredentialsInput {
  /** The WWW-Authenticate / Proxy-Authenticate value (text or parsed). */
  challenge: string | AuthHeader;
  method: string;
  /** Request-URI of the request being authorised. */
  uri: string;
  username: string;
  /** The password, or `ha1` when only the hash is stored. */
  password?: string;
  ha1?: string;
  /** Body, needed when the challenge only offers qop=auth-int. */
  body?: Buffer;
  /** Nonce count to use (default 1). */
  nc?: number;
  /** Client nonce (default: random). */
  cnonce?: string;
}

/** Preference when a peer offers several challenges: strongest supported first. */
const PREFERENCE: DigestAlgorithm[] = [
  'SHA-512-256',
  'SHA-256',
  'SHA-256-sess',
  'SHA-512-256-sess',
  'MD5',
  'MD5-sess',
];

function parseChallenge(challenge: string | AuthHeader): AuthHeader {
  return typeof challenge === 'string' ? parseAuthHeader(challenge, 'www-authenticate') : challenge;
}

/**
 * Pick the challenge to answer among several WWW-/Proxy-Authenticate values (RFC 8760 §2.4: use the
 * first supported algorithm in preference order). Returns undefined when none is a usable Digest challenge.
 */
export function selectChallenge(challenges: Array<string | AuthHeader>): AuthHeader | undefined {
  let best: AuthHeader | undefined;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const c of challenges) {
    let parsed: AuthHeader;
    try {
      parsed = parseChallenge(c);
    } catch {
      continue;
    }
    if (parsed.scheme.toLowerCase() !== 'digest' || !parsed.params.nonce || parsed.params.realm === undefined)
      continue;
    const algorithm = normalizeAlgorithm(parsed.params.algorithm);
    const rank = algorithm ? PREFERENCE.indexOf(algorithm) : -1;
    if (rank >= 0 && rank < bestRank) {
      best = parsed;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * Compute an Authorization / Proxy-Authorization value answering a Digest challenge
 * (RFC 3261 §22.2/§22.3, RFC 7616 §3.4). Throws RangeError for a challenge it cannot answer.
 */
export function computeDigestAuthorization(input: DigestCredentialsInput): string {
  const challenge = parseChallenge(input.challenge);
  if (challenge.scheme.toLowerCase() !== 'digest')
    throw new RangeError(`unsupported scheme ${challenge.scheme}`);
  const { realm, nonce, opaque } = challenge.params;
  if (realm === undefined || !nonce) throw new RangeError('challenge without realm or nonce');
  const algorithm = normalizeAlgorithm(challenge.params.algorithm);
  if (!algorithm) throw new RangeError(`unsupported digest algorithm ${challenge.params.algorithm}`);
  const offered = (challenge.params.qop ?? '')
    .split(',')
    .map((q) => q.trim().toLowerCase())
    .filter(Boolean);
  let qop: DigestQop | undefined;
  if (offered.includes('auth')) qop = 'auth';
  else if (offered.includes('auth-int')) qop = 'auth-int';
  else if (offered.length > 0) throw new RangeError(`unsupported qop ${challenge.params.qop}`);
  let ha1 = input.ha1;
  if (ha1 === undefined) {
    if (input.password === undefined) throw new RangeError('password or ha1 is required');
    ha1 = digestHa1(algorithm, input.username, realm, input.password);
  }
  const nc = (input.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = input.cnonce ?? randomBytes(12).toString('hex');
  const response = digestResponse({
    algorithm,
    ha1,
    nonce,
    method: input.method,
    uri: input.uri,
    qop,
    nc,
    cnonce,
    body: input.body,
  });
  let out = `Digest username=${quote(input.username)}, realm=${quote(realm)}, nonce=${quote(nonce)}`;
  out += `, uri=${quote(input.uri)}, response=${quote(response)}, algorithm=${algorithm}`;
  if (qop) out += `, qop=${qop}, nc=${nc}, cnonce=${quote(cnonce)}`;
  if (opaque !== undefined) out += `, opaque=${quote(opaque)}`;
  return out;
}

/**
 * Client-side state for one set of credentials: answers challenges and counts nonce uses so that
 * re-using a nonce (pre-emptive authorisation of the next REGISTER) sends an increasing nc.
 */
export class DigestClient {
  private readonly counts: LruMap<string, number>;

  constructor(
    private readonly credentials: { username: string; password?: string; ha1?: string },
    /** How many nonces to remember (bounded). */
    maxNonces = 64,
  ) {
    this.counts = new LruMap(maxNonces);
  }

  /** Answer the best of the given challenges; undefined when none can be answered. */
  authorize(
    challenges: Array<string | AuthHeader>,
    request: { method: string; uri: string; body?: Buffer },
  ): string | undefined {
    const challenge = selectChallenge(challenges);
    if (!challenge) return undefined;
    const nonce = challenge.params.nonce as string;
    const nc = (this.counts.get(nonce) ?? 0) + 1;
    this.counts.set(nonce, nc);
    const input: DigestCredentialsInput = {
      challenge,
      method: request.method,
      uri: request.uri,
      username: this.credentials.username,
      nc,
    };
    if (this.credentials.password !== undefined) input.password = this.credentials.password;
    if (this.credentials.ha1 !== undefined) input.ha1 = this.credentials.ha1;
    if (request.body !== undefined) input.body = request.body;
    return computeDigestAuthorization(input);
  }
}
