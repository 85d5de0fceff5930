import {
  allInEscaped,
  escapeUri,
  HNVCHAR,
  HOSTCHAR,
  IPV6CHAR,
  isDigit,
  PARAMCHAR,
  PASSWORD,
  USER,
  unescapeUri,
} from '../syntax/charset.ts';
import { SipParseError } from '../syntax/errors.ts';
import { type Param, Params } from '../syntax/params.ts';

export type HostType = 'domain' | 'ipv4' | 'ipv6';

export interface SipUriParts {
  scheme?: 'sip' | 'sips';
  /** User part as it goes on the wire (escaped). Use escapeUser() for arbitrary text. */
  user?: string | undefined;
  password?: string | undefined;
  /** Host name, IPv4 address, or IPv6 address with or without brackets. */
  host: string;
  /** Host classification when the caller already validated the host (skips re-validation). */
  hostType?: HostType;
  port?: number | undefined;
  params?: Params | Param[];
  headers?: Params | Param[];
}

function invalid(uri: string, what: string): never {
  throw new SipParseError('INVALID_URI', `invalid SIP URI "${uri.slice(0, 80)}": ${what}`);
}

/** Classify and validate a host (without IPv6 brackets). Returns undefined when it is not a valid host. */
export function classifyHost(host: string): HostType | undefined {
  const n = host.length;
  if (n === 0 || n > 255) return undefined;
  // one pass: hostname characters, whether they are all digits and dots, and no ".." (a ":" means IPv6)
  let allDigitsAndDots = true;
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x3a) return classifyIpv6(host);
    if (c > 127 || HOSTCHAR[c] !== 1) return host.indexOf(':') >= 0 ? classifyIpv6(host) : undefined;
    if (c === 0x2e) {
      if (previous === 0x2e) return host.indexOf(':') >= 0 ? classifyIpv6(host) : undefined;
    } else if (!isDigit(c)) allDigitsAndDots = false;
    previous = c;
  }
  if (allDigitsAndDots) {
    // IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each octet 0-255
    let octets = 0;
    let value = 0;
    let len = 0;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? host.charCodeAt(i) : 0x2e;
      if (c === 0x2e) {
        if (len === 0 || len > 3 || value > 255) return undefined;
        octets++;
        value = 0;
        len = 0;
      } else {
        value = value * 10 + (c - 0x30);
        len++;
      }
    }
    return octets === 4 ? 'ipv4' : undefined;
  }
  const first = host.charCodeAt(0);
  if (first === 0x2e || first === 0x2d) return undefined;
  return 'domain';
}

/** The host type in a scanHostname() result. */
export function scannedHostType(scanned: number): HostType | undefined {
  const code = scanned & 3;
  return code === SCANNED_DOMAIN ? 'domain' : code === SCANNED_IPV4 ? 'ipv4' : undefined;
}

/** Codes in the low bits of scanHostname()'s result. */
export const SCANNED_INVALID = 0;
export const SCANNED_DOMAIN = 1;
export const SCANNED_IPV4 = 2;

/**
 * Read hostname characters (HOSTCHAR) of `s` from `pos` and classify them in the same pass, as
 * classifyHost() would classify the text read. Returns `end * 4 + code`, where `end` is the position
 * of the first character not read and `code` is SCANNED_DOMAIN, SCANNED_IPV4 or SCANNED_INVALID (one
 * number, so that the hot callers allocate nothing).
 */
export function scanHostname(s: string, pos: number): number {
  const start = pos;
  const n = s.length;
  let digitsAndDots = true;
  let doubleDot = false;
  let ipv4 = true;
  let octets = 0;
  let value = 0;
  let len = 0;
  let previous = 0;
  for (; pos < n; pos++) {
    const c = s.charCodeAt(pos);
    if (c > 127 || HOSTCHAR[c] !== 1) break;
    if (c === 0x2e) {
      if (previous === 0x2e) doubleDot = true;
      // IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each octet 0-255
      if (len === 0 || len > 3 || value > 255) ipv4 = false;
      octets++;
      value = 0;
      len = 0;
    } else if (isDigit(c)) {
      value = value * 10 + (c - 0x30);
      len++;
    } else {
      digitsAndDots = false;
    }
    previous = c;
  }
  const length = pos - start;
  let code = SCANNED_INVALID;
  if (length > 0 && length <= 255) {
    if (digitsAndDots) {
      if (ipv4 && octets === 3 && len > 0 && len <= 3 && value <= 255) code = SCANNED_IPV4;
    } else {
      const first = s.charCodeAt(start);
      if (!doubleDot && first !== 0x2e && first !== 0x2d) code = SCANNED_DOMAIN;
    }
  }
  return pos * 4 + code;
}

function classifyIpv6(host: string): HostType | undefined {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c > 127 || IPV6CHAR[c] !== 1) return undefined;
  }
  return 'ipv6';
}

/**
 * A SIP or SIPS URI (RFC 3261 §19.1). Components are kept as written on the wire (escaped) so that a URI
 * serialises back to the same text; the *Text getters give unescaped values.
 */
export class SipUri {
  readonly kind = 'sip' as const;
  scheme: 'sip' | 'sips';
  user: string | undefined;
  password: string | undefined;
  /** Host without IPv6 brackets. */
  host: string;
  hostType: HostType;
  port: number | undefined;
  params: Params;
  headers: Params;

  constructor(parts: SipUriParts) {
    this.scheme = parts.scheme ?? 'sip';
    this.user = parts.user;
    this.password = parts.password;
    let host = parts.host;
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const type = parts.hostType ?? classifyHost(host);
    if (!type) invalid(parts.host, 'bad host');
    this.host = host;
    this.hostType = type;
    this.port = parts.port;
    this.params = parts.params instanceof Params ? parts.params : new Params(parts.params ?? []);
    this.headers = parts.headers instanceof Params ? parts.headers : new Params(parts.headers ?? []);
  }

  /** User part with escapes decoded. */
  get userText(): string | undefined {
    return this.user === undefined ? undefined : unescapeUri(this.user);
  }

  get passwordText(): string | undefined {
    return this.password === undefined ? undefined : unescapeUri(this.password);
  }

  /** Host as written in a URI or Via: IPv6 addresses in brackets. */
  get hostport(): string {
    const h = this.hostType === 'ipv6' ? `[${this.host}]` : this.host;
    return this.port === undefined ? h : `${h}:${this.port}`;
  }

  /** The transport parameter, lower-cased, if present. */
  get transport(): string | undefined {
    const t = this.params.get('transport');
    return typeof t === 'string' ? t.toLowerCase() : undefined;
  }

  /** True for loose-routing URIs (`;lr`). */
  get lr(): boolean {
    return this.params.has('lr');
  }

  clone(): SipUri {
    return new SipUri({
      scheme: this.scheme,
      user: this.user,
      password: this.password,
      host: this.host,
      port: this.port,
      params: this.params.clone(),
      headers: this.headers.clone(),
    });
  }

  toString(): string {
    let out = `${this.scheme}:`;
    if (this.user !== undefined) {
      out += this.user;
      if (this.password !== undefined) out += `:${this.password}`;
      out += '@';
    }
    out += this.hostport;
    out += this.params.toString(';');
    if (this.headers.size > 0) out += `?${this.headers.toString('&').slice(1)}`;
    return out;
  }
}

/** Escape arbitrary text for use as the user part of a SIP URI. */
export function escapeUser(text: string): string {
  return escapeUri(text, USER);
}

/** Parse the text after `sip:` / `sips:`. `whole` is the full URI, for error messages. */
export function parseSipUriBody(scheme: 'sip' | 'sips', body: string, whole: string): SipUri {
  return parseSipUriFrom(scheme, body, 0, whole);
}

/**
 * Parse the SIP URI whose text after the scheme starts at `from` in `body` and runs to its end (parsing
 * in place spares a copy of the text).
 */
export function parseSipUriFrom(scheme: 'sip' | 'sips', body: string, from: number, whole: string): SipUri {
  let pos = from;
  let user: string | undefined;
  let password: string | undefined;
  const at = body.indexOf('@', from);
  if (at >= 0) {
    const colon = body.indexOf(':', from);
    const userEnd = colon >= 0 && colon < at ? colon : at;
    user = body.slice(from, userEnd);
    if (!allInEscaped(user, USER)) invalid(whole, 'bad user part');
    if (userEnd < at) {
      password = body.slice(userEnd + 1, at);
      if (!allInEscaped(password, PASSWORD, true)) invalid(whole, 'bad password');
    }
    pos = at + 1;
  }

  let host: string;
  let hostType: HostType | undefined;
  if (body.charCodeAt(pos) === 0x5b) {
    const close = body.indexOf(']', pos);
    if (close < 0) invalid(whole, 'unterminated IPv6 reference');
    host = body.slice(pos + 1, close);
    hostType = classifyHost(host);
    if (hostType !== 'ipv6') invalid(whole, 'bad IPv6 reference');
    pos = close + 1;
  } else {
    const start = pos;
    const scanned = scanHostname(body, pos);
    pos = scanned >> 2; // V8 strings are shorter than 2**29, so end * 4 fits in 31 bits
    host = body.slice(start, pos);
    hostType = scannedHostType(scanned);
    if (!hostType) invalid(whole, host ? `bad host "${host}"` : 'missing host');
  }

  let port: number | undefined;
  if (body.charCodeAt(pos) === 0x3a) {
    pos++;
    const start = pos;
    while (pos < body.length && isDigit(body.charCodeAt(pos))) pos++;
    const digits = body.slice(start, pos);
    if (digits.length === 0 || digits.length > 5 || Number(digits) > 65535) invalid(whole, 'bad port');
    port = Number(digits);
  }

  const params: Param[] = [];
  while (body.charCodeAt(pos) === 0x3b) {
    pos++;
    const nameStart = pos;
    pos = scanEscaped(body, pos, PARAMCHAR, whole);
    const name = body.slice(nameStart, pos);
    if (name.length === 0) invalid(whole, 'empty parameter');
    let value: string | null = null;
    if (body.charCodeAt(pos) === 0x3d) {
      pos++;
      const vStart = pos;
      pos = scanEscaped(body, pos, PARAMCHAR, whole);
      value = body.slice(vStart, pos);
      if (value.length === 0) invalid(whole, `empty value for parameter "${name}"`);
    }
    params.push({ name, value });
  }

  const headers: Param[] = [];
  if (body.charCodeAt(pos) === 0x3f) {
    do {
      pos++;
      const nameStart = pos;
      pos = scanEscaped(body, pos, HNVCHAR, whole);
      const name = body.slice(nameStart, pos);
      if (name.length === 0 || body.charCodeAt(pos) !== 0x3d) invalid(whole, 'bad header in URI');
      pos++;
      const vStart = pos;
      pos = scanEscaped(body, pos, HNVCHAR, whole);
      headers.push({ name, value: body.slice(vStart, pos) });
    } while (body.charCodeAt(pos) === 0x26);
  }

  if (pos !== body.length) invalid(whole, `unexpected character "${body[pos]}"`);
  return new SipUri({ scheme, user, password, host, hostType, port, params, headers });
}

/** Advance over characters of `t` and %HH escapes; throws on a malformed escape. */
function scanEscaped(s: string, pos: number, t: Uint8Array, whole: string): number {
  while (pos < s.length) {
    const c = s.charCodeAt(pos);
    if (c === 0x25) {
      if (!allInEscaped(s.slice(pos, pos + 3), t)) invalid(whole, 'bad escape');
      pos += 3;
      continue;
    }
    if (c > 127 || t[c] !== 1) break;
    pos++;
  }
  return pos;
}
