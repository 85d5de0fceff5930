import { textToWire } from '../syntax/charset.ts';
import { NameAddr, parseNameAddr } from '../uri/name-addr.ts';
import { parseUri, type Uri } from '../uri/uri.ts';
import { canonicalHeaderName } from './header-names.ts';
import { type HeaderField, reasonPhrase, SipRequest, SipResponse } from './message.ts';
import { randomHex } from './random.ts';

/** A fresh RFC 3261 branch: magic cookie + 64 random bits (§8.1.1.7). */
export function generateBranch(): string {
  return `z9hG4bK${randomHex(8)}`;
}

/** A fresh From/To tag: 64 random bits (§19.3 asks for at least 32). */
export function generateTag(): string {
  return randomHex(8);
}

/** A fresh Call-ID: 96 random bits, optionally @host. */
export function generateCallId(host?: string): string {
  const id = randomHex(12);
  return host ? `${id}@${host}` : id;
}

/** Headers copied from a request into every response (RFC 3261 §8.2.6.2). */
const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

export interface ResponseOptions {
  /** Reason phrase (default: the standard one for the status). */
  reason?: string;
  /**
   * To tag to add when the request's To has none and status > 100. Default: a fresh random tag.
   * Pass the same tag for every response of one UAS transaction / dialog.
   */
  toTag?: string;
  /** Extra headers, appended in order. */
  headers?: Array<[string, string | number]>;
  body?: Buffer | string;
  contentType?: string;
}

/**
 * Build a response to a request as a UAS does (RFC 3261 §8.2.6): Via (all values, in order), From,
 * Call-ID, CSeq copied verbatim; To copied with a tag added when the request had none (except for 100);
 * Timestamp copied into 100 Trying (§8.2.6.1); Content-Length set.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  options: ResponseOptions = {},
): SipResponse {
  const headers: HeaderField[] = [];
  for (const h of request.headers) {
    if (COPIED.has(h.key) || (status === 100 && h.key === 'timestamp')) {
      headers.push({ name: canonicalHeaderName(h.key), key: h.key, value: h.value, raw: null });
    }
  }
  // The Via fields are the request's, unchanged: so are their values, read once already (the
  // transport layer reads them on every received request and the response's target is its top Via).
  const response = new SipResponse({
    status,
    reason: options.reason ?? reasonPhrase(status),
    headers,
    via: request.via.slice(),
  });
  if (status > 100 && request.toTag === undefined) {
    // The To value as received with the tag appended, as Kamailio's sl and tm modules write it: whatever
    // follows the URI (in brackets, or after an addr-spec, which cannot hold a ';') is a header
    // parameter, so appending is exact, and the value need not be parsed and printed again. (Reading
    // toTag above threw if the request had no To.)
    const to = headers.find((h) => h.key === 'to') as HeaderField;
    to.value = `${to.value};tag=${options.toTag ?? generateTag()}`;
  }
  for (const [name, value] of options.headers ?? []) response.appendHeader(name, value);
  if (options.body !== undefined) response.setBody(options.body, options.contentType);
  else response.setHeader('Content-Length', 0);
  return response;
}

export interface RequestOptions {
  method: string;
  /** Request-URI (text or parsed). */
  uri: string | Uri;
  /** From address; a tag is generated when it has none. */
  from: string | NameAddr;
  /** To address (no tag for an out-of-dialog request). */
  to: string | NameAddr;
  callId?: string;
  cseq?: number;
  /**
   * Top Via without branch, e.g. `SIP/2.0/UDP 192.0.2.1:5060;rport`. A fresh branch is added.
   * Omit to let the transport layer add the Via when sending.
   */
  via?: string;
  maxForwards?: number;
  contact?: string | NameAddr;
  /** Extra headers, appended in order. */
  headers?: Array<[string, string | number]>;
  body?: Buffer | string;
  contentType?: string;
}

function toNameAddr(value: string | NameAddr): NameAddr {
  if (typeof value !== 'string') return value.clone();
  const text = value.trim();
  return text.includes('<') ? parseNameAddr(textToWire(text)) : new NameAddr(parseUri(text));
}

/** Build an out-of-dialog request (RFC 3261 §8.1.1) with the mandatory headers filled in. */
export function createRequest(options: RequestOptions): SipRequest {
  const uri = typeof options.uri === 'string' ? parseUri(options.uri) : options.uri;
  const request = new SipRequest({ method: options.method, uri });
  if (options.via !== undefined) request.setHeader('Via', `${options.via};branch=${generateBranch()}`);
  request.setHeader('Max-Forwards', options.maxForwards ?? 70);
  const from = toNameAddr(options.from);
  if (from.tag === undefined) from.tag = generateTag();
  request.setHeader('From', from.toString());
  request.setHeader('To', toNameAddr(options.to).toString());
  request.setHeader('Call-ID', options.callId ?? generateCallId());
  request.setHeader('CSeq', `${options.cseq ?? 1} ${options.method}`);
  if (options.contact !== undefined) request.setHeader('Contact', toNameAddr(options.contact).toString());
  for (const [name, value] of options.headers ?? []) request.appendHeader(name, value);
  if (options.body !== undefined) request.setBody(options.body, options.contentType);
  else request.setHeader('Content-Length', 0);
  return request;
}

/** Copy the fields with `key` from one message to another, keeping their wire values. */
function copyFields(from: SipRequest | SipResponse, to: SipRequest, key: string): void {
  for (const h of from.headers) {
    if (h.key === key) to.headers.push({ name: canonicalHeaderName(key), key, value: h.value, raw: null });
  }
}

/** The top Via field value of a request (the value, not the whole comma-joined field). */
function topViaValue(request: SipRequest): string {
  const top = request.topVia;
  if (!top) throw new RangeError('request has no Via');
  return top.toString();
}

/**
 * CANCEL for a pending request (RFC 3261 §9.1): same Request-URI, Call-ID, From, To, CSeq number and
 * Route set as the request, and only the request's top Via (same branch).
 */
export function createCancel(request: SipRequest): SipRequest {
  const cancel = new SipRequest({ method: 'CANCEL', uri: request.uri.clone() });
  cancel.setHeader('Via', topViaValue(request));
  cancel.setHeader('Max-Forwards', 70);
  copyFields(request, cancel, 'from');
  copyFields(request, cancel, 'to');
  copyFields(request, cancel, 'call-id');
  cancel.setHeader('CSeq', `${request.cseq.seq} CANCEL`);
  copyFields(request, cancel, 'route');
  cancel.invalidate();
  cancel.setHeader('Content-Length', 0);
  return cancel;
}

/**
 * ACK for a non-2xx final response to an INVITE (RFC 3261 §17.1.1.3): built by the client transaction
 * from the original INVITE; To comes from the response (it carries the tag), Via is the INVITE's top Via.
 */
export function createNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest({ method: 'ACK', uri: invite.uri.clone() });
  ack.setHeader('Via', topViaValue(invite));
  ack.setHeader('Max-Forwards', 70);
  copyFields(invite, ack, 'from');
  copyFields(response, ack, 'to');
  copyFields(invite, ack, 'call-id');
  ack.setHeader('CSeq', `${invite.cseq.seq} ACK`);
  copyFields(invite, ack, 'route');
  ack.invalidate();
  ack.setHeader('Content-Length', 0);
  return ack;
}
