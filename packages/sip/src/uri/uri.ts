import { isDigit, unescapeUri } from '../syntax/charset.ts';
import { SipParseError } from '../syntax/errors.ts';
import { parseSipUriBody, parseSipUriFrom, type SipUri } from './sip-uri.ts';
import { parseTelUriBody, type TelUri, telUriEquals } from './tel-uri.ts';

/**
 * Any other absolute URI (`http:`, `urn:`, `isbn:`...): kept opaque. RFC 3261 allows them in To/From and
 * elsewhere; an element decides per context whether it supports the scheme (416 otherwise).
 */
export class AbsoluteUri {
  readonly kind = 'absolute' as const;
  constructor(
    /** Lower-cased scheme. */
    readonly scheme: string,
    /** Everything after the colon, as written. */
    readonly body: string,
  ) {}

  clone(): AbsoluteUri {
    return new AbsoluteUri(this.scheme, this.body);
  }

  toString(): string {
    return `${this.scheme}:${this.body}`;
  }
}

export type Uri = SipUri | TelUri | AbsoluteUri;

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * Parse any URI: SIP/SIPS and TEL fully, other schemes as opaque absolute URIs.
 * Throws SipParseError('INVALID_URI') on malformed text (no whitespace or angle brackets are accepted).
 */
export function parseUri(text: string): Uri {
  // the usual case, without copying the scheme and body out
  if (text.startsWith('sip:') && text.length > 4) return parseSipUriFrom('sip', text, 4, text);
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  let i = 0;
  if (!isAlpha(text.charCodeAt(0))) {
    throw new SipParseError('INVALID_URI', `invalid URI "${text.slice(0, 80)}": missing scheme`);
  }
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (!(isAlpha(c) || isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e)) break;
    i++;
  }
  if (text.charCodeAt(i) !== 0x3a || i === text.length - 1) {
    throw new SipParseError('INVALID_URI', `invalid URI "${text.slice(0, 80)}": missing scheme`);
  }
  const scheme = text.slice(0, i).toLowerCase();
  const body = text.slice(i + 1);
  if (scheme === 'sip' || scheme === 'sips') return parseSipUriBody(scheme, body, text);
  if (scheme === 'tel') return parseTelUriBody(body, text);
  for (let j = 0; j < body.length; j++) {
    const c = body.charCodeAt(j);
    // opaque part: printable ASCII minus the characters that delimit URIs inside headers
    if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22) {
      throw new SipParseError(
        'INVALID_URI',
        `invalid URI "${text.slice(0, 80)}": bad character at ${i + 1 + j}`,
      );
    }
  }
  return new AbsoluteUri(scheme, body);
}

/** Parse and require a SIP or SIPS URI. */
export function parseSipUri(text: string): SipUri {
  const uri = parseUri(text);
  if (uri.kind !== 'sip') throw new SipParseError('INVALID_URI', `not a SIP URI: "${text.slice(0, 80)}"`);
  return uri;
}

/** Parse and require a TEL URI. */
export function parseTelUri(text: string): TelUri {
  const uri = parseUri(text);
  if (uri.kind !== 'tel') throw new SipParseError('INVALID_URI', `not a TEL URI: "${text.slice(0, 80)}"`);
  return uri;
}

/** Parameters that, when present in either URI, must be present and equal in both (RFC 3261 §19.1.4). */
const MUST_MATCH_PARAMS = ['user', 'ttl', 'method', 'maddr', 'transport'];

function eqUnescapedCi(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === b) return true;
  if (a == null || b == null) return false;
  return unescapeUri(a).toLowerCase() === unescapeUri(b).toLowerCase();
}

/** SIP URI equality, RFC 3261 §19.1.4. */
export function sipUriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  // userinfo is compared case-sensitively, after unescaping
  if ((a.user === undefined) !== (b.user === undefined)) return false;
  if (a.user !== undefined && unescapeUri(a.user) !== unescapeUri(b.user as string)) return false;
  if ((a.password === undefined) !== (b.password === undefined)) return false;
  if (a.password !== undefined && unescapeUri(a.password) !== unescapeUri(b.password as string)) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase()) return false;
  // an omitted port does not match an explicit default port
  if (a.port !== b.port) return false;
  for (const name of MUST_MATCH_PARAMS) {
    const va = a.params.getRaw(name);
    const vb = b.params.getRaw(name);
    if (va === undefined && vb === undefined) continue;
    if (!eqUnescapedCi(va, vb)) return false;
  }
  for (const p of a.params.list) {
    const other = b.params.getRaw(p.name);
    if (other !== undefined && !eqUnescapedCi(p.value, other)) return false;
  }
  // header components are never ignored
  if (a.headers.size !== b.headers.size) return false;
  for (const h of a.headers.list) {
    const other = b.headers.getRaw(h.name);
    if (other === undefined || !eqUnescapedCi(h.value, other)) return false;
  }
  return true;
}

/** Equality of any two URIs under their scheme's rules (opaque URIs compare textually, scheme ci). */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind === 'sip' && b.kind === 'sip') return sipUriEquals(a, b);
  if (a.kind === 'tel' && b.kind === 'tel') return telUriEquals(a, b);
  if (a.kind === 'absolute' && b.kind === 'absolute') return a.scheme === b.scheme && a.body === b.body;
  return false;
}
