import { isToken, textToWire, wireToText } from '../syntax/charset.ts';
import type { NameAddr } from '../uri/name-addr.ts';
import { parseNameAddr } from '../uri/name-addr.ts';
import type { Uri } from '../uri/uri.ts';
import { canonicalHeaderName, ESSENTIAL_HEADERS, headerKey } from './header-names.ts';
import {
  type AuthHeader,
  type Contact,
  type ContactList,
  type CSeq,
  formatCSeq,
  type MediaType,
  parseAuthHeader,
  parseCallId,
  parseContact,
  parseContentLength,
  parseContentType,
  parseCSeq,
  parseDate,
  parseDeltaSeconds,
  parseMaxForwards,
  parseNameAddrList,
  parseRAck,
  parseReason,
  parseRSeq,
  parseSessionExpires,
  parseTokenList,
  parseVia,
  type RAck,
  type Reason,
  type SessionExpires,
  type Via,
} from './headers.ts';

/** One header field line of a message. */
export interface HeaderField {
  /** Name as written on the wire ("v", "Via", "VIA"...), or the canonical name for fields set in code. */
  name: string;
  /** Lower-case long-form key ("via", "call-id"): compact forms expanded. */
  key: string;
  /** Unfolded value, leading/trailing whitespace removed, as a wire string (one char per byte). */
  value: string;
  /** The field exactly as received (name, colon, value, folding), without its final CRLF; null if set in code. */
  raw: string | null;
}

/** The header section of a parsed message as received, kept to serialise it unchanged in one piece. */
export interface ReceivedHead {
  /** Start line to the last header line, CRLF-separated, without the final empty line. */
  head: string;
  startLine: string;
  /** The `raw` of each field, in order. */
  raws: string[];
}

const EMPTY = Buffer.alloc(0);
/** Marks a typed view not parsed yet (undefined is a parsed "absent"). */
const UNSET: unique symbol = Symbol('unset');
// slots of ESSENTIAL_HEADERS
const VIA = ESSENTIAL_HEADERS.indexOf('via');
const FROM = ESSENTIAL_HEADERS.indexOf('from');
const TO = ESSENTIAL_HEADERS.indexOf('to');
const CALL_ID = ESSENTIAL_HEADERS.indexOf('call-id');
const CSEQ = ESSENTIAL_HEADERS.indexOf('cseq');
const MAX_FORWARDS = ESSENTIAL_HEADERS.indexOf('max-forwards');
const CONTENT_LENGTH = ESSENTIAL_HEADERS.indexOf('content-length');
const CONTENT_TYPE = ESSENTIAL_HEADERS.indexOf('content-type');
const parseLength = (v: string): number => parseContentLength(v);
const parseFrom = (v: string): NameAddr => parseNameAddr(v, 'from');
const parseTo = (v: string): NameAddr => parseNameAddr(v, 'to');
function parseViaFields(vs: string[]): Via[] {
  if (vs.length === 1) return parseVia(vs[0] as string);
  const out: Via[] = [];
  for (const v of vs) for (const via of parseVia(v)) out.push(via);
  return out;
}

function checkValue(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) {
      throw new RangeError('header values must not contain CR, LF or NUL (header injection)');
    }
  }
  return textToWire(value);
}

function checkName(name: string): string {
  if (!isToken(name)) throw new RangeError(`invalid header name "${name}"`);
  return name;
}

type Stringable = string | number | { toString(): string };

/** A message's bytes and what they were printed from. */
interface WireMemo {
  bytes: Buffer;
  startLine: string;
  headers: HeaderField[];
  fieldCount: number;
  body: Buffer;
}

/**
 * Common model of requests and responses: an ordered list of header fields kept as received, typed views
 * parsed on first access and cached until the header is changed, and the body as raw bytes.
 *
 * Header text is stored as wire strings (one char per byte) so that untouched fields serialise back
 * byte for byte; getHeader()/typed getters return readable text, setHeader() accepts any JS string.
 */
export abstract class SipMessage {
  headers: HeaderField[];
  /** Body bytes, never decoded or re-encoded. */
  body: Buffer;
  /** Typed views of the other headers, by key, created on first use. */
  private cache: Map<string, unknown> | null = null;
  /**
   * Typed views of ESSENTIAL_HEADERS, by their index there (UNSET until parsed): every parse reads them,
   * and an array slot is much cheaper to fill and read than a map entry.
   */
  private essentials: unknown[] = [UNSET, UNSET, UNSET, UNSET, UNSET, UNSET, UNSET, UNSET]; // one per ESSENTIAL_HEADERS
  /** What the header section looked like when received (null for a message built in code). */
  private readonly received: ReceivedHead | null;
  /** The last serialisation, while nothing it was made from has changed (see toBuffer). */
  private wire: WireMemo | null = null;

  constructor(
    headers: HeaderField[] = [],
    body: Buffer = EMPTY,
    received: ReceivedHead | null = null,
    /** The Via values when the parser already read them (one per Via field, in order). */
    via?: Via[],
  ) {
    this.headers = headers;
    this.body = body;
    this.received = received;
    if (via !== undefined) this.essentials[VIA] = via;
  }

  abstract get isRequest(): boolean;
  /** The start line without CRLF. */
  abstract startLine(): string;
  abstract clone(): SipMessage;

  // ---------------------------------------------------------------------------------- raw access

  /** Fields of a header, in order (name is case-insensitive; compact forms accepted). */
  fields(name: string): HeaderField[] {
    const key = headerKey(name);
    return this.headers.filter((h) => h.key === key);
  }

  hasHeader(name: string): boolean {
    const key = headerKey(name);
    return this.headers.some((h) => h.key === key);
  }

  /** Value of the first field of that name, as text; undefined if absent. */
  getHeader(name: string): string | undefined {
    const key = headerKey(name);
    for (const h of this.headers) if (h.key === key) return wireToText(h.value);
    return undefined;
  }

  /** Values of every field of that name, as text, in order (comma-separated lists are not split). */
  getHeaders(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const h of this.headers) if (h.key === key) out.push(wireToText(h.value));
    return out;
  }

  /** Wire values of every field of that name (used by the typed getters). */
  protected wireValues(key: string): string[] {
    const out: string[] = [];
    for (const h of this.headers) if (h.key === key) out.push(h.value);
    return out;
  }

  private makeField(name: string, value: Stringable): HeaderField {
    const key = headerKey(checkName(name));
    return { name: canonicalHeaderName(name), key, value: checkValue(String(value)), raw: null };
  }

  /**
   * Replace every field of that name by the given value(s), at the position of the first existing field
   * (or at the end). An empty array removes the header.
   */
  setHeader(name: string, value: Stringable | Stringable[]): this {
    const key = headerKey(name);
    const first = this.headers.findIndex((h) => h.key === key);
    if (first < 0 && !Array.isArray(value)) {
      // Nothing to replace (the common case when building a message): the field goes at the end, as
      // below, without copying the list.
      this.headers.push(this.makeField(name, value));
      this.forget(key);
      return this;
    }
    const values = Array.isArray(value) ? value : [value];
    const fresh = values.map((v) => this.makeField(name, v));
    const kept = this.headers.filter((h) => h.key !== key);
    const at = first < 0 ? kept.length : this.headers.slice(0, first).filter((h) => h.key !== key).length;
    kept.splice(at, 0, ...fresh);
    this.headers = kept;
    this.forget(key);
    return this;
  }

  /** Add a field after the last field of that name (or at the end). */
  appendHeader(name: string, value: Stringable): this {
    const field = this.makeField(name, value);
    let last = -1;
    for (let i = 0; i < this.headers.length; i++)
      if ((this.headers[i] as HeaderField).key === field.key) last = i;
    if (last < 0) this.headers.push(field);
    else this.headers.splice(last + 1, 0, field);
    this.forget(field.key);
    return this;
  }

  /** Add a field before the first field of that name (or at the top of the header section). */
  prependHeader(name: string, value: Stringable): this {
    const field = this.makeField(name, value);
    const first = this.headers.findIndex((h) => h.key === field.key);
    this.headers.splice(Math.max(first, 0), 0, field);
    this.forget(field.key);
    return this;
  }

  /** Remove every field of that name; returns how many were removed. */
  removeHeader(name: string): number {
    const key = headerKey(name);
    const before = this.headers.length;
    if (!this.headers.some((h) => h.key === key)) return 0;
    this.headers = this.headers.filter((h) => h.key !== key);
    this.forget(key);
    return before - this.headers.length;
  }

  /** Parse-once cache of typed views; any change to the header drops its entry. */
  protected typed<T>(key: string, parse: (values: string[]) => T): T {
    const cache = this.typedCache();
    if (cache.has(key)) return cache.get(key) as T;
    const value = parse(this.wireValues(key));
    cache.set(key, value);
    return value;
  }

  private typedCache(): Map<string, unknown> {
    if (this.cache === null) this.cache = new Map();
    return this.cache;
  }

  /** typed() for the header at `slot` of ESSENTIAL_HEADERS. */
  private typedEssential<T>(slot: number, key: string, parse: (values: string[]) => T): T {
    const cached = this.essentials[slot];
    if (cached !== UNSET) return cached as T;
    const value = parse(this.wireValues(key));
    this.essentials[slot] = value;
    return value;
  }

  /** How many fields of this key the message has (not values: one field may list several). */
  private fieldCount(key: string): number {
    let count = 0;
    for (const field of this.headers) if (field.key === key) count++;
    return count;
  }

  /** Drop the cached typed view of a header. */
  private forget(key: string): void {
    this.wire = null;
    this.cache?.delete(key);
    const slot = ESSENTIAL_HEADERS.indexOf(key);
    if (slot >= 0) this.essentials[slot] = UNSET;
  }

  /** Forget cached typed views (needed only after editing `headers` directly). */
  invalidate(): void {
    this.wire = null;
    this.cache?.clear();
    this.essentials.fill(UNSET);
  }

  // ------------------------------------------------------------------------------- typed access

  /** All Via values, top first (comma-joined values are split). */
  get via(): Via[] {
    return this.typedEssential(VIA, 'via', parseViaFields);
  }

  get topVia(): Via | undefined {
    return this.via[0];
  }

  /** Insert a Via value at the top (a proxy or UAC sending a request, RFC 3261 §16.6 step 8). */
  prependVia(via: Via | string): this {
    return this.prependHeader('Via', via.toString());
  }

  /** Remove the top Via value (a proxy forwarding a response, RFC 3261 §16.7 step 3). */
  removeTopVia(): Via | undefined {
    const idx = this.headers.findIndex((h) => h.key === 'via');
    if (idx < 0) return undefined;
    const field = this.headers[idx] as HeaderField;
    const values = parseVia(field.value);
    const top = values.shift();
    if (values.length === 0) this.headers.splice(idx, 1);
    else this.headers[idx] = { name: field.name, key: 'via', value: values.join(', '), raw: null };
    this.forget('via');
    return top;
  }

  /** Replace the top Via value (e.g. to add received/rport, RFC 3261 §18.2.1, RFC 3581). */
  replaceTopVia(via: Via): this {
    const idx = this.headers.findIndex((h) => h.key === 'via');
    if (idx < 0) return this.prependVia(via);
    const field = this.headers[idx] as HeaderField;
    const parsed = this.essentials[VIA];
    if (parsed !== UNSET && (parsed as Via[]).length === this.fieldCount('via')) {
      // One value per Via field, as nearly every sender writes them: the top field is the top value, so
      // it is rewritten without parsing it again, and the parsed list stays valid with the new top.
      this.headers[idx] = { name: field.name, key: 'via', value: via.toString(), raw: null };
      this.wire = null;
      const vias = (parsed as Via[]).slice();
      vias[0] = via;
      this.essentials[VIA] = vias;
      return this;
    }
    const values = parseVia(field.value);
    values[0] = via;
    this.headers[idx] = { name: field.name, key: 'via', value: values.join(', '), raw: null };
    this.forget('via');
    return this;
  }

  /** Typed view of a single-valued header (first field), cached like typed(). */
  private single<T>(key: string, parse: (v: string) => T): T | undefined {
    const cache = this.typedCache();
    if (cache.has(key)) return cache.get(key) as T | undefined;
    const value = this.parseFirst(key, parse);
    cache.set(key, value);
    return value;
  }

  /** single() for the header at `slot` of ESSENTIAL_HEADERS. */
  private singleEssential<T>(slot: number, key: string, parse: (v: string) => T): T | undefined {
    const cached = this.essentials[slot];
    if (cached !== UNSET) return cached as T | undefined;
    const value = this.parseFirst(key, parse);
    this.essentials[slot] = value;
    return value;
  }

  private parseFirst<T>(key: string, parse: (v: string) => T): T | undefined {
    for (const h of this.headers) if (h.key === key) return parse(h.value);
    return undefined;
  }

  private required<T>(slot: number, key: string, parse: (v: string) => T): T {
    const v = this.singleEssential(slot, key, parse);
    if (v === undefined) throw new RangeError(`message has no ${canonicalHeaderName(key)} header`);
    return v;
  }

  /** From header (throws RangeError if absent; parsed messages always have it). */
  get from(): NameAddr {
    return this.required(FROM, 'from', parseFrom);
  }

  get to(): NameAddr {
    return this.required(TO, 'to', parseTo);
  }

  get fromTag(): string | undefined {
    return this.from.tag;
  }

  get toTag(): string | undefined {
    return this.to.tag;
  }

  get callId(): string {
    return this.required(CALL_ID, 'call-id', parseCallId);
  }

  get cseq(): CSeq {
    return this.required(CSEQ, 'cseq', parseCSeq);
  }

  get maxForwards(): number | undefined {
    return this.singleEssential(MAX_FORWARDS, 'max-forwards', parseMaxForwards);
  }

  /** Contact header: `'*'`, a list of contacts, or an empty list when absent. */
  get contact(): ContactList {
    return this.typed('contact', (vs) => {
      const lists = vs.map(parseContact);
      if (lists.includes('*')) return '*';
      return (lists as Contact[][]).flat();
    });
  }

  get expires(): number | undefined {
    return this.single('expires', (v) => parseDeltaSeconds(v, 'expires'));
  }

  get minExpires(): number | undefined {
    return this.single('min-expires', (v) => parseDeltaSeconds(v, 'min-expires'));
  }

  private addressList(key: string): NameAddr[] {
    return this.typed(key, (vs) => vs.flatMap((v) => parseNameAddrList(v, key)));
  }

  get route(): NameAddr[] {
    return this.addressList('route');
  }

  get recordRoute(): NameAddr[] {
    return this.addressList('record-route');
  }

  get path(): NameAddr[] {
    return this.addressList('path');
  }

  get serviceRoute(): NameAddr[] {
    return this.addressList('service-route');
  }

  get diversion(): NameAddr[] {
    return this.addressList('diversion');
  }

  get historyInfo(): NameAddr[] {
    return this.addressList('history-info');
  }

  get pAssertedIdentity(): NameAddr[] {
    return this.addressList('p-asserted-identity');
  }

  private tokens(key: string): string[] {
    return this.typed(key, (vs) => vs.flatMap((v) => parseTokenList(v, key)));
  }

  get supported(): string[] {
    return this.tokens('supported');
  }

  get require(): string[] {
    return this.tokens('require');
  }

  get proxyRequire(): string[] {
    return this.tokens('proxy-require');
  }

  get unsupported(): string[] {
    return this.tokens('unsupported');
  }

  get allow(): string[] {
    return this.tokens('allow');
  }

  get contentType(): MediaType | undefined {
    return this.singleEssential(CONTENT_TYPE, 'content-type', parseContentType);
  }

  /** Declared Content-Length, if the header is present. */
  get contentLength(): number | undefined {
    return this.singleEssential(CONTENT_LENGTH, 'content-length', parseLength);
  }

  get userAgent(): string | undefined {
    return this.getHeader('user-agent');
  }

  get server(): string | undefined {
    return this.getHeader('server');
  }

  get rseq(): number | undefined {
    return this.single('rseq', parseRSeq);
  }

  get rack(): RAck | undefined {
    return this.single('rack', parseRAck);
  }

  get sessionExpires(): SessionExpires | undefined {
    return this.single('session-expires', (v) => parseSessionExpires(v));
  }

  get minSE(): number | undefined {
    return this.single('min-se', (v) => parseSessionExpires(v, 'min-se').seconds);
  }

  /** Reason header values (RFC 3326). */
  get reasons(): Reason[] {
    return this.typed('reason', (vs) => vs.flatMap(parseReason));
  }

  get date(): Date | undefined {
    return this.single('date', parseDate);
  }

  private auths(key: string): AuthHeader[] {
    return this.typed(key, (vs) => vs.map((v) => parseAuthHeader(v, key)));
  }

  get authorization(): AuthHeader[] {
    return this.auths('authorization');
  }

  get proxyAuthorization(): AuthHeader[] {
    return this.auths('proxy-authorization');
  }

  get wwwAuthenticate(): AuthHeader[] {
    return this.auths('www-authenticate');
  }

  get proxyAuthenticate(): AuthHeader[] {
    return this.auths('proxy-authenticate');
  }

  // -------------------------------------------------------------------------------------- body

  /** Replace the body and set Content-Length (and Content-Type when given). */
  setBody(body: Buffer | string, contentType?: string): this {
    this.body = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.setHeader('Content-Length', this.body.length);
    if (contentType !== undefined) this.setHeader('Content-Type', contentType);
    else if (this.body.length === 0) this.removeHeader('content-type');
    return this;
  }

  /** Make sure a Content-Length header is present and true (required on stream transports). */
  ensureContentLength(): this {
    const fields = this.fields('content-length');
    const declared = fields.length === 1 ? Number((fields[0] as HeaderField).value) : Number.NaN;
    if (declared !== this.body.length) this.setHeader('Content-Length', this.body.length);
    return this;
  }

  // ------------------------------------------------------------------------------ serialisation

  /**
   * Serialise: unmodified fields are written exactly as received. A message sent once is printed again
   * for the transaction's retransmission copy and for traces; the bytes are kept and handed out again
   * while the start line prints the same and no header method, header list or body changed since (a
   * body edited byte by byte in place is not seen: give it a new body). Shared: callers must not write
   * into the returned buffer.
   */
  toBuffer(): Buffer {
    const startLine = this.startLine();
    const memo = this.wire;
    if (
      memo !== null &&
      memo.startLine === startLine &&
      memo.headers === this.headers &&
      memo.fieldCount === this.headers.length &&
      memo.body === this.body
    )
      return memo.bytes;
    const bytes = this.serialise(startLine);
    this.wire = { bytes, startLine, headers: this.headers, fieldCount: this.headers.length, body: this.body };
    return bytes;
  }

  private serialise(startLine: string): Buffer {
    const head = this.unchangedHead(startLine) ?? this.buildHead(startLine);
    const headLength = Buffer.byteLength(head, 'latin1');
    const out = Buffer.allocUnsafe(headLength + 4 + this.body.length);
    out.write(head, 0, 'latin1');
    out[headLength] = 0x0d;
    out[headLength + 1] = 0x0a;
    out[headLength + 2] = 0x0d;
    out[headLength + 3] = 0x0a;
    this.body.copy(out, headLength + 4);
    return out;
  }

  /**
   * The received header section when the start line and every field still print exactly as received
   * (the common case for a message relayed or answered unchanged), so that it is written in one piece
   * instead of being concatenated field by field. The check compares the strings (pointer-equal when
   * untouched), not the field objects, so it holds whatever way the fields were edited.
   */
  private unchangedHead(startLine: string): string | null {
    const received = this.received;
    if (received === null || startLine !== received.startLine) return null;
    const raws = received.raws;
    const headers = this.headers;
    if (headers.length !== raws.length) return null;
    for (let i = 0; i < raws.length; i++) {
      if ((headers[i] as HeaderField).raw !== raws[i]) return null;
    }
    return received.head;
  }

  /** Start line and header fields, CRLF-separated, without the final empty line. */
  private buildHead(startLine: string): string {
    let head = startLine;
    for (const h of this.headers) {
      head += '\r\n';
      head += h.raw ?? `${h.name}: ${h.value}`;
    }
    return head;
  }

  /** Text form for logs (head and body decoded as UTF-8). */
  toString(): string {
    return this.toBuffer().toString('utf8');
  }

  protected cloneHeaders(): HeaderField[] {
    return this.headers.map((h) => ({ ...h }));
  }
}

export class SipRequest extends SipMessage {
  private _method: string;
  private _uri: Uri;
  /** Start line as received (dropped when the method changes) and the Request-URI text in it. */
  private rawStartLine: string | null;
  /**
   * How the received Request-URI prints, computed when the Uri object is first handed out: until then
   * nobody can have changed it, and startLine() need not print it to know the received line still holds.
   */
  private rawUri: string | null = null;
  private uriShared = false;

  constructor(init: {
    method: string;
    uri: Uri;
    headers?: HeaderField[];
    body?: Buffer;
    rawStartLine?: string | null;
    /** The received header section (parser use, see SipMessage). */
    received?: ReceivedHead | null;
    /** The Via values already read by the parser (parser use). */
    via?: Via[] | undefined;
  }) {
    super(init.headers, init.body, init.received ?? null, init.via);
    if (!isToken(init.method)) throw new RangeError(`invalid method "${init.method}"`);
    this._method = init.method;
    this._uri = init.uri;
    this.rawStartLine = init.rawStartLine ?? null;
  }

  get isRequest(): true {
    return true;
  }

  /** Method, case-sensitive as RFC 3261 §7.1 requires ("INVITE"). */
  get method(): string {
    return this._method;
  }

  set method(value: string) {
    if (!isToken(value)) throw new RangeError(`invalid method "${value}"`);
    this._method = value;
    this.rawStartLine = null;
  }

  /**
   * Request-URI. Retarget by assigning a new Uri or by mutating this one in place: the received start line
   * is reused on serialisation only while the URI still prints as received.
   */
  get uri(): Uri {
    this.shareUri();
    return this._uri;
  }

  set uri(value: Uri) {
    this.shareUri();
    this._uri = value;
  }

  /** Record how the received URI prints before anyone outside can change it. */
  private shareUri(): void {
    if (this.uriShared) return;
    this.uriShared = true;
    if (this.rawStartLine !== null) this.rawUri = this._uri.toString();
  }

  /** The received start line while the method and the Request-URI are unchanged, else null. */
  private receivedStartLine(): string | null {
    if (this.rawStartLine === null) return null;
    if (!this.uriShared || this._uri.toString() === this.rawUri) return this.rawStartLine;
    return null;
  }

  startLine(): string {
    return this.receivedStartLine() ?? `${this._method} ${this._uri.toString()} SIP/2.0`;
  }

  clone(): SipRequest {
    return new SipRequest({
      method: this._method,
      uri: this._uri.clone(),
      headers: this.cloneHeaders(),
      body: Buffer.from(this.body),
      // The clone takes its URI as received; a start line received for another URI must not come along.
      rawStartLine: this.receivedStartLine(),
    });
  }

  /** Set the CSeq header. */
  setCSeq(cseq: CSeq): this {
    return this.setHeader('CSeq', formatCSeq(cseq));
  }
}

export class SipResponse extends SipMessage {
  private _status: number;
  /** Reason phrase as a wire string. */
  private _reason: string;
  private rawStartLine: string | null;

  constructor(init: {
    status: number;
    reason?: string;
    headers?: HeaderField[];
    body?: Buffer;
    rawStartLine?: string | null;
    /** True when `reason` is already a wire string (parser use). */
    wireReason?: boolean;
    /** The received header section (parser use, see SipMessage). */
    received?: ReceivedHead | null;
    /** The Via values already read by the parser (parser use). */
    via?: Via[] | undefined;
  }) {
    super(init.headers, init.body, init.received ?? null, init.via);
    checkStatus(init.status);
    this._status = init.status;
    const reason = init.reason ?? reasonPhrase(init.status);
    this._reason = init.wireReason ? reason : checkValue(reason);
    this.rawStartLine = init.rawStartLine ?? null;
  }

  get isRequest(): false {
    return false;
  }

  get status(): number {
    return this._status;
  }

  set status(value: number) {
    checkStatus(value);
    this._status = value;
    this.rawStartLine = null;
  }

  /** Reason phrase as text. */
  get reason(): string {
    return wireToText(this._reason);
  }

  set reason(value: string) {
    this._reason = checkValue(value);
    this.rawStartLine = null;
  }

  /** Set status and (by default the standard) reason phrase together. */
  setStatus(status: number, reason?: string): this {
    this.status = status;
    this.reason = reason ?? reasonPhrase(status);
    return this;
  }

  startLine(): string {
    return this.rawStartLine ?? `SIP/2.0 ${this._status} ${this._reason}`;
  }

  clone(): SipResponse {
    return new SipResponse({
      status: this._status,
      reason: this._reason,
      wireReason: true,
      headers: this.cloneHeaders(),
      body: Buffer.from(this.body),
      rawStartLine: this.rawStartLine,
    });
  }
}

function checkStatus(status: number): void {
  if (!Number.isInteger(status) || status < 100 || status > 699) {
    throw new RangeError(`invalid SIP status code ${status}`);
  }
}

export type SipMessageType = SipRequest | SipResponse;

const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  199: 'Early Dialog Terminated',
  200: 'OK',
  202: 'Accepted',
  204: 'No Notification',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  417: 'Unknown Resource-Priority',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  423: 'Interval Too Brief',
  428: 'Use Identity Header',
  429: 'Provide Referrer Identity',
  430: 'Flow Failed',
  433: 'Anonymity Disallowed',
  436: 'Bad Identity-Info',
  437: 'Unsupported Certificate',
  438: 'Invalid Identity Header',
  439: 'First Hop Lacks Outbound Support',
  440: 'Max-Breadth Exceeded',
  469: 'Bad Info Package',
  470: 'Consent Needed',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  493: 'Undecipherable',
  494: 'Security Agreement Required',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  555: 'Push Notification Service Not Supported',
  580: 'Precondition Failure',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted',
  608: 'Rejected',
};

/** Standard reason phrase for a status code (RFC 3261 §21 and later RFCs), or a generic one by class. */
export function reasonPhrase(status: number): string {
  const known = REASONS[status];
  if (known) return known;
  if (status < 200) return 'Provisional';
  if (status < 300) return 'Success';
  if (status < 400) return 'Redirection';
  if (status < 500) return 'Client Error';
  if (status < 600) return 'Server Error';
  return 'Global Failure';
}
