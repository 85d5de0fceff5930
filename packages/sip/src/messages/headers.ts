/**
 * Typed views of the header fields the platform uses. Each parser takes the unfolded wire value of one
 * header field (or of all fields of that name joined in order) and throws SipParseError on bad syntax.
 */

import { HOSTCHAR, isDigit, TOKEN, trimWs, WORD, wireToText } from '../syntax/charset.ts';
import { SipParseError } from '../syntax/errors.ts';
import { type Param, Params, parseParams, scanCompactParams } from '../syntax/params.ts';
import { Scanner, splitList, unquote } from '../syntax/scanner.ts';
import { NameAddr, parseNameAddrAt } from '../uri/name-addr.ts';
import { classifyHost, type HostType, scanHostname, scannedHostType } from '../uri/sip-uri.ts';

const MAX_UINT32 = 4294967295;
const MAX_CSEQ = 2147483647; // RFC 3261 §8.1.1.5: less than 2**31

function bad(header: string, what: string): never {
  throw new SipParseError('INVALID_HEADER_VALUE', `${header}: ${what}`, header);
}

/**
 * Value of the decimal digits s[from, to) (leading zeros allowed, "0068" = 68); Infinity when it exceeds
 * 10**15, so that absurdly long numbers never lose precision into an accepted value.
 */
function decimal(s: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    value = value * 10 + (s.charCodeAt(i) - 0x30);
    if (value > 1e15) return Number.POSITIVE_INFINITY;
  }
  return value;
}

/** Read 1*DIGIT at the scanner position as a number; `max` bounds it. */
function digits(sc: Scanner, max: number, what: string): number {
  const start = sc.pos;
  while (!sc.eof && isDigit(sc.peek())) sc.pos++;
  if (sc.pos === start) sc.fail(`expected ${what}`);
  const value = decimal(sc.s, start, sc.pos);
  if (value > max) sc.fail(`${what} out of range`);
  return value;
}

function expectEnd(sc: Scanner): void {
  sc.skipWs();
  if (!sc.eof) sc.fail('unexpected trailing text');
}

// ---------------------------------------------------------------------------------------------- Via

/** One Via value (RFC 3261 §20.42): `SIP/2.0/UDP host:port;branch=...;received=...;rport`. */
export class Via {
  protocolName: string;
  protocolVersion: string;
  /** Upper-case transport (UDP, TCP, TLS, SCTP, WS, WSS, ...). */
  transport: string;
  /** Host without IPv6 brackets. */
  host: string;
  hostType: HostType;
  port: number | undefined;
  params: Params;

  constructor(init: {
    transport: string;
    host: string;
    port?: number | undefined;
    params?: Params;
    protocolName?: string;
    protocolVersion?: string;
    /** Host classification when already validated by the caller. */
    hostType?: HostType;
  }) {
    this.protocolName = init.protocolName ?? 'SIP';
    this.protocolVersion = init.protocolVersion ?? '2.0';
    this.transport = init.transport.toUpperCase();
    let host = init.host;
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const type = init.hostType ?? classifyHost(host);
    if (!type) bad('via', `bad sent-by host "${init.host}"`);
    this.host = host;
    this.hostType = type;
    this.port = init.port;
    this.params = init.params ?? new Params();
  }

  get branch(): string | undefined {
    const v = this.params.get('branch');
    return typeof v === 'string' ? v : undefined;
  }

  set branch(value: string | undefined) {
    if (value === undefined) this.params.delete('branch');
    else this.params.set('branch', value);
  }

  /** True when the branch carries the RFC 3261 magic cookie. */
  get isRfc3261Branch(): boolean {
    return this.branch?.startsWith('z9hG4bK') ?? false;
  }

  get received(): string | undefined {
    const v = this.params.get('received');
    return typeof v === 'string' ? v : undefined;
  }

  set received(value: string | undefined) {
    if (value === undefined) this.params.delete('received');
    else this.params.set('received', value);
  }

  /** RFC 3581: `true` when present without a value (a request asking for it), the port when filled in. */
  get rport(): number | true | undefined {
    const v = this.params.get('rport');
    if (v === undefined) return undefined;
    if (v === null || v === '') return true;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : true;
  }

  set rport(value: number | true | undefined) {
    if (value === undefined) this.params.delete('rport');
    else this.params.set('rport', value === true ? null : String(value));
  }

  get maddr(): string | undefined {
    const v = this.params.get('maddr');
    return typeof v === 'string' ? v : undefined;
  }

  get ttl(): number | undefined {
    const v = this.params.get('ttl');
    return typeof v === 'string' && /^\d{1,3}$/.test(v) ? Number(v) : undefined;
  }

  /** sent-by as written in the header (IPv6 in brackets). */
  get sentBy(): string {
    const h = this.hostType === 'ipv6' ? `[${this.host}]` : this.host;
    return this.port === undefined ? h : `${h}:${this.port}`;
  }

  clone(): Via {
    return new Via({
      protocolName: this.protocolName,
      protocolVersion: this.protocolVersion,
      transport: this.transport,
      host: this.host,
      port: this.port,
      params: this.params.clone(),
    });
  }

  toString(): string {
    return `${this.protocolName}/${this.protocolVersion}/${this.transport} ${this.sentBy}${this.params.toString(';')}`;
  }
}

/**
 * Fast path for the shape nearly every Via has: `SIP/2.0/TRANSPORT host[:port]` followed by compact
 * parameters, single space, nothing else. Returns undefined for anything else (other spacing, comments,
 * escapes, invalid text), which then goes through the full grammar; it accepts nothing the full grammar
 * rejects and builds the same Via.
 */
function parseCommonVia(text: string): Via | undefined {
  return parseCommonViaIn(text, 0, text.length);
}

/**
 * parseCommonVia() of the value s[from, end), read in place (the parser calls it on the received head,
 * where scanning is faster than on a string cut out of it). Every scan stops at the CR or whitespace
 * that follows a value in the head, and the value must be consumed exactly up to `end`.
 */
export function parseCommonViaIn(s: string, from: number, end: number): Via | undefined {
  if (!s.startsWith('SIP/2.0/', from)) return undefined;
  let pos = from + 8;
  while (pos < end) {
    const c = s.charCodeAt(pos);
    if (c > 127 || TOKEN[c] !== 1) break;
    pos++;
  }
  if (pos === from + 8 || pos >= end || s.charCodeAt(pos) !== 0x20) return undefined;
  const transport = s.slice(from + 8, pos);
  pos++;
  let host: string;
  let hostType: HostType | undefined;
  if (s.charCodeAt(pos) === 0x5b) {
    const close = s.indexOf(']', pos);
    if (close < 0 || close >= end) return undefined;
    host = s.slice(pos + 1, close);
    hostType = classifyHost(host);
    if (hostType !== 'ipv6') return undefined;
    pos = close + 1;
  } else {
    const start = pos;
    const scanned = scanHostname(s, pos);
    pos = scanned >> 2; // V8 strings are shorter than 2**29, so end * 4 fits in 31 bits
    hostType = scannedHostType(scanned);
    if (hostType === undefined || pos > end) return undefined;
    host = s.slice(start, pos);
  }
  let port: number | undefined;
  if (pos < end && s.charCodeAt(pos) === 0x3a) {
    const start = ++pos;
    while (pos < end && isDigit(s.charCodeAt(pos))) pos++;
    if (pos === start || pos - start > 5) return undefined;
    port = decimal(s, start, pos);
    if (port > 65535) return undefined;
  }
  const list: Param[] = [];
  if (pos > end || (pos < end && scanCompactParams(s, pos, list) !== end)) return undefined;
  const params = new Params(list);
  const branch = params.get('branch');
  if (branch !== undefined && !branch) return undefined; // present but empty: the full grammar says why
  return new Via({ transport, host, hostType, port, params });
}

function parseOneVia(text: string): Via {
  const common = parseCommonVia(text);
  if (common !== undefined) return common;
  const sc = new Scanner(text, 'via');
  if (text.length === 0) sc.fail('empty Via value');
  const protocolName = sc.token('protocol name');
  if (!sc.eatSep(0x2f)) sc.fail('expected "/"');
  const protocolVersion = sc.token('protocol version');
  if (!sc.eatSep(0x2f)) sc.fail('expected "/"');
  const transport = sc.token('transport');
  const beforeWs = sc.pos;
  sc.skipWs();
  if (sc.pos === beforeWs) sc.fail('expected whitespace before sent-by');
  let host: string;
  let hostType: HostType | undefined;
  if (sc.peek() === 0x5b) {
    const close = sc.s.indexOf(']', sc.pos);
    if (close < 0) sc.fail('unterminated IPv6 reference');
    host = sc.s.slice(sc.pos + 1, close);
    hostType = classifyHost(host);
    if (hostType !== 'ipv6') sc.fail('bad IPv6 reference');
    sc.pos = close + 1;
  } else {
    host = sc.run(HOSTCHAR);
    hostType = classifyHost(host);
    if (!hostType) sc.fail(host ? `bad host "${host}"` : 'missing sent-by host');
  }
  let port: number | undefined;
  if (sc.eatSep(0x3a)) port = digits(sc, 65535, 'port');
  const params = parseParams(sc);
  expectEnd(sc);
  if (params.has('branch') && !params.get('branch')) sc.fail('empty branch');
  return new Via({ protocolName, protocolVersion, transport, host, hostType, port, params });
}

/** Parse a Via header value (possibly several comma-separated Via values). */
export function parseVia(value: string): Via[] {
  if (value.indexOf(',') < 0) return [parseOneVia(value)];
  return splitList(value, 'via').map(parseOneVia);
}

// --------------------------------------------------------------------------------------------- CSeq

export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(value: string): CSeq {
  const sc = new Scanner(value, 'cseq');
  sc.skipWs();
  const seq = digits(sc, MAX_CSEQ, 'sequence number');
  const before = sc.pos;
  sc.skipWs();
  if (sc.pos === before) sc.fail('expected whitespace before method');
  const method = sc.token('method');
  expectEnd(sc);
  return { seq, method };
}

export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}

// ------------------------------------------------------------------------------------------ Call-ID

/** callid = word [ "@" word ] */
export function parseCallId(value: string): string {
  const v = trimWs(value);
  // one pass, in place: word characters with at most one "@" that has a word on each side
  let at = -1;
  let ok = v.length > 0;
  for (let i = 0; ok && i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x40 && at < 0) at = i;
    else if (c > 127 || WORD[c] !== 1) ok = false;
  }
  if (!ok || at === 0 || at === v.length - 1) bad('call-id', `invalid Call-ID "${v.slice(0, 60)}"`);
  return v;
}

// ---------------------------------------------------------------------------------- integer headers

/** delta-seconds; values beyond 2**32-1 are clamped to it (RFC 3261 §20.19, §10.2.1.1). */
export function parseDeltaSeconds(value: string, header: string): number {
  const v = trimWs(value);
  if (v.length === 0) bad(header, 'empty value');
  for (let i = 0; i < v.length; i++)
    if (!isDigit(v.charCodeAt(i))) bad(header, `"${v.slice(0, 30)}" is not a number`);
  return Math.min(decimal(v, 0, v.length), MAX_UINT32);
}

/** Max-Forwards: an integer 0-255 (RFC 3261 §20.22). */
export function parseMaxForwards(value: string): number {
  const sc = new Scanner(trimWs(value), 'max-forwards');
  const n = digits(sc, 255, 'Max-Forwards');
  expectEnd(sc);
  return n;
}

/** Content-Length: 1*DIGIT, bounded by `max` (the largest message accepted). */
export function parseContentLength(value: string, max = MAX_UINT32): number {
  const v = trimWs(value);
  if (v.length === 0)
    throw new SipParseError('INVALID_CONTENT_LENGTH', 'Content-Length: empty value', 'content-length');
  for (let i = 0; i < v.length; i++) {
    if (!isDigit(v.charCodeAt(i))) {
      throw new SipParseError(
        'INVALID_CONTENT_LENGTH',
        `Content-Length: "${v.slice(0, 30)}" is not a non-negative integer`,
        'content-length',
      );
    }
  }
  const length = decimal(v, 0, v.length);
  if (length > max) {
    throw new SipParseError(
      'INVALID_CONTENT_LENGTH',
      `Content-Length: ${v.slice(0, 20)} exceeds the limit ${max}`,
      'content-length',
    );
  }
  return length;
}

// ------------------------------------------------------------------------------------ address lists

function parseAddressList(value: string, header: string): NameAddr[] {
  const items = value.indexOf(',') < 0 ? [value] : splitList(value, header);
  return items.map((item) => {
    const sc = new Scanner(item, header);
    if (item.length === 0) sc.fail('empty list element');
    const na = parseNameAddrAt(sc);
    expectEnd(sc);
    return na;
  });
}

/** Route, Record-Route, Path, Service-Route, Diversion, History-Info, P-Asserted-Identity. */
export function parseNameAddrList(value: string, header: string): NameAddr[] {
  return parseAddressList(value, header);
}

/** A Contact value: an address with convenience getters for the registration parameters. */
export class Contact extends NameAddr {
  /** `expires` parameter in seconds (clamped to 2**32-1), if present and numeric. */
  get expires(): number | undefined {
    const v = this.params.get('expires');
    if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
    return parseDeltaSeconds(v, 'contact');
  }

  /** `q` parameter (0..1), if present and well formed. */
  get q(): number | undefined {
    const v = this.params.get('q');
    if (typeof v !== 'string' || !/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v)) return undefined;
    return Number(v);
  }

  /** `+sip.instance` (RFC 5626) without quotes and angle brackets, e.g. `urn:uuid:...`. */
  get instance(): string | undefined {
    const v = this.params.get('+sip.instance');
    if (typeof v !== 'string') return undefined;
    return v.startsWith('<') && v.endsWith('>') ? v.slice(1, -1) : v;
  }

  /** `reg-id` (RFC 5626). */
  get regId(): number | undefined {
    const v = this.params.get('reg-id');
    return typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : undefined;
  }

  /** Push notification parameters (RFC 8599: pn-provider, pn-prid, pn-param, ...), from the URI or header. */
  get pushParams(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.uri.kind !== 'absolute') collectPushParams(this.uri.params, out);
    collectPushParams(this.params, out);
    return out;
  }

  override clone(): Contact {
    return new Contact(this.uri.clone(), this.displayName, this.params.clone());
  }
}

/** The `pn-` parameters of `params` into `out`, by lower-case name, values unquoted. */
function collectPushParams(params: Params, out: Record<string, string>): void {
  for (const p of params.list) {
    const name = p.name.toLowerCase();
    if (name.startsWith('pn-') && p.value !== null) out[name] = unquote(p.value);
  }
}

/** Contact: `*` (remove all bindings) or a list of addresses. */
export type ContactList = '*' | Contact[];

export function parseContact(value: string): ContactList {
  if (trimWs(value) === '*') return '*';
  return parseAddressList(value, 'contact').map((na) => new Contact(na.uri, na.displayName, na.params));
}

// ------------------------------------------------------------------------------------- token lists

/** Supported, Require, Proxy-Require, Unsupported, Allow, Allow-Events: comma-separated tokens. */
export function parseTokenList(value: string, header: string): string[] {
  if (trimWs(value).length === 0) return []; // e.g. an empty Supported header is legal
  return value.split(',').map((part) => {
    const t = trimWs(part);
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c > 127 || TOKEN[c] !== 1) bad(header, `"${t.slice(0, 30)}" is not a token`);
    }
    if (t.length === 0) bad(header, 'empty list element');
    return t;
  });
}

// ------------------------------------------------------------------------------------ Content-Type

export interface MediaType {
  type: string;
  subtype: string;
  /** Lower-case `type/subtype`. */
  mediaType: string;
  params: Params;
}

export function parseContentType(value: string): MediaType {
  const sc = new Scanner(value, 'content-type');
  sc.skipWs();
  const type = sc.token('media type');
  if (!sc.eatSep(0x2f)) sc.fail('expected "/"');
  const subtype = sc.token('media subtype');
  const params = parseParams(sc);
  expectEnd(sc);
  return { type, subtype, mediaType: `${type}/${subtype}`.toLowerCase(), params };
}

// -------------------------------------------------------------------------------- authentication

/** A challenge (WWW-/Proxy-Authenticate) or credentials (Authorization/Proxy-Authorization). */
export interface AuthHeader {
  /** Scheme as written ("Digest"). */
  scheme: string;
  /** Parameters by lower-case name, quotes removed. */
  params: Record<string, string>;
}

/** `scheme LWS auth-param *(COMMA auth-param)`, auth-param = name EQUAL ( token / quoted-string ). */
export function parseAuthHeader(value: string, header: string): AuthHeader {
  const sc = new Scanner(value, header);
  sc.skipWs();
  const scheme = sc.token('authentication scheme');
  const params: Record<string, string> = Object.create(null);
  sc.skipWs();
  let first = true;
  while (!sc.eof) {
    if (!first && !sc.eatSep(0x2c)) sc.fail('expected ","');
    first = false;
    sc.skipWs();
    const name = sc.token('parameter name').toLowerCase();
    if (!sc.eatSep(0x3d)) sc.fail(`expected "=" after ${name}`);
    const v = sc.peek() === 0x22 ? unquote(sc.quotedString()) : sc.token(`value of ${name}`);
    if (name in params) sc.fail(`duplicate parameter ${name}`);
    params[name] = v;
    sc.skipWs();
  }
  return { scheme, params };
}

// --------------------------------------------------------------------------------------- RSeq/RAck

export function parseRSeq(value: string): number {
  const sc = new Scanner(trimWs(value), 'rseq');
  const n = digits(sc, MAX_UINT32, 'response number');
  expectEnd(sc);
  return n;
}

export interface RAck {
  rseq: number;
  cseq: number;
  method: string;
}

/**
 * `RAck: response-num LWS CSeq-num LWS Method` (RFC 3262 §7.2). Text after the method is ignored, as sofia-sip
 * (drachtio-server's stack) ignores it: UAs in the field send e.g. `RAck: 1 2 INVITE INVITE`, and their
 * PRACKs must still match (docs/sip-library.md, "Lenient where sofia-sip is").
 */
export function parseRAck(value: string): RAck {
  const sc = new Scanner(value, 'rack');
  sc.skipWs();
  const rseq = digits(sc, MAX_UINT32, 'response number');
  sc.skipWs();
  const cseq = digits(sc, MAX_CSEQ, 'CSeq number');
  sc.skipWs();
  const method = sc.token('method');
  return { rseq, cseq, method };
}

// ---------------------------------------------------------------------------- Session timers (4028)

export interface SessionExpires {
  seconds: number;
  /** `uac` / `uas` when present. */
  refresher: string | undefined;
  params: Params;
}

export function parseSessionExpires(value: string, header = 'session-expires'): SessionExpires {
  const sc = new Scanner(value, header);
  sc.skipWs();
  const seconds = digits(sc, MAX_UINT32, 'delta-seconds');
  const params = parseParams(sc);
  expectEnd(sc);
  const r = params.get('refresher');
  return { seconds, refresher: typeof r === 'string' ? r.toLowerCase() : undefined, params };
}

// ------------------------------------------------------------------------------------ Reason (3326)

export interface Reason {
  protocol: string;
  cause: number | undefined;
  text: string | undefined;
  params: Params;
}

export function parseReason(value: string): Reason[] {
  return splitList(value, 'reason').map((item) => {
    const sc = new Scanner(item, 'reason');
    const protocol = sc.token('protocol');
    const params = parseParams(sc);
    expectEnd(sc);
    const cause = params.get('cause');
    const text = params.get('text');
    return {
      protocol,
      cause: typeof cause === 'string' && /^\d{1,5}$/.test(cause) ? Number(cause) : undefined,
      text: typeof text === 'string' ? wireToText(text) : undefined,
      params,
    };
  });
}

// ------------------------------------------------------------------------------------------- Date

const WKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** SIP-date = rfc1123-date, always in GMT (RFC 3261 §20.17). */
export function parseDate(value: string): Date {
  const v = trimWs(value);
  const m = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([A-Za-z]+)$/.exec(v);
  if (!m) bad('date', `"${v.slice(0, 40)}" is not an RFC 1123 date`);
  const [, wk, day, mon, year, hh, mm, ss, zone] = m as unknown as string[];
  if (zone !== 'GMT') bad('date', `time zone must be GMT, got "${zone}"`);
  const month = MONTHS.indexOf(mon as string);
  if (!WKDAYS.includes(wk as string) || month < 0) bad('date', `"${v.slice(0, 40)}" is not an RFC 1123 date`);
  const d = new Date(Date.UTC(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss)));
  if (Number.isNaN(d.getTime()) || Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 60) {
    bad('date', `"${v.slice(0, 40)}" is not a valid date`);
  }
  return d;
}

export { NameAddr };
