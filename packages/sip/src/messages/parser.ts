import {
  forbiddenControlAt,
  isCtl,
  isDigit,
  isWsp,
  needsHeadCheck,
  TOKEN,
  trimWs,
} from '../syntax/charset.ts';
import { guardParse, SipParseError } from '../syntax/errors.ts';
import { parseNameAddr } from '../uri/name-addr.ts';
import { parseUri, type Uri } from '../uri/uri.ts';
import { canonicalHeaderName, ESSENTIAL_HEADERS, SINGLE_HEADERS, wireHeaderNameAt } from './header-names.ts';
import { parseCommonViaIn, type Via } from './headers.ts';
import { type HeaderField, type ReceivedHead, type SipMessage, SipRequest, SipResponse } from './message.ts';

export interface ParseLimits {
  /** Largest message accepted, head and body (default 65535, the largest UDP datagram). */
  maxMessageSize?: number;
  /** Most header fields accepted (default 256). */
  maxHeaders?: number;
  /** Longest line accepted, folded continuation lines counted separately (default 8192). */
  maxLineLength?: number;
}

export interface ParseOptions extends ParseLimits {
  /**
   * 'datagram' (default): a missing Content-Length means "the rest of the datagram"; bytes beyond
   * Content-Length are discarded (RFC 3261 §18.3). 'stream': Content-Length is mandatory and must match
   * the body exactly (use the StreamFramer to cut messages out of a byte stream first).
   */
  transport?: 'datagram' | 'stream';
  /**
   * 'essential' (default) checks the start line and the headers every element needs (Via, From, To,
   * Call-ID, CSeq, Max-Forwards, Content-Length); other typed views are parsed on first access and may
   * throw SipParseError then. 'full' also runs validateMessage(), which checks every known header.
   */
  validate?: 'essential' | 'full';
}

export const DEFAULT_LIMITS: Required<ParseLimits> = {
  maxMessageSize: 65535,
  maxHeaders: 256,
  maxLineLength: 8192,
};

/** Headers every request and response must carry (RFC 3261 §8.1.1; Max-Forwards is tolerated missing). */
const MANDATORY = ['via', 'from', 'to', 'call-id', 'cseq'];

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const VIA_SLOT = ESSENTIAL_HEADERS.indexOf('via');

/**
 * Parse one SIP message from a datagram or from a framed stream message.
 * Throws only SipParseError (see errors.ts); never anything else.
 */
export function parseMessage(
  input: Buffer | Uint8Array | string,
  options: ParseOptions = NO_OPTIONS,
): SipRequest | SipResponse {
  // the guardParse() contract, written out: no closure to allocate for every message
  try {
    const buf =
      typeof input === 'string'
        ? Buffer.from(input, 'utf8')
        : Buffer.isBuffer(input)
          ? input
          : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const message = parseBuffer(buf, options);
    if (options.validate === 'full') validateMessage(message);
    return message;
  } catch (error) {
    if (error instanceof SipParseError) throw error;
    throw new SipParseError('INTERNAL_ERROR', `internal parser error: ${(error as Error)?.message ?? error}`);
  }
}

const NO_OPTIONS: ParseOptions = Object.freeze({});

/** Like parseMessage, but returns a result object instead of throwing. */
export function tryParseMessage(
  input: Buffer | Uint8Array | string,
  options: ParseOptions = {},
): { ok: true; message: SipRequest | SipResponse } | { ok: false; error: SipParseError } {
  try {
    return { ok: true, message: parseMessage(input, options) };
  } catch (error) {
    return { ok: false, error: error as SipParseError };
  }
}

function parseBuffer(buf: Buffer, options: ParseOptions): SipRequest | SipResponse {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_LIMITS.maxMessageSize;
  const maxHeaders = options.maxHeaders ?? DEFAULT_LIMITS.maxHeaders;
  const maxLineLength = options.maxLineLength ?? DEFAULT_LIMITS.maxLineLength;
  if (buf.length > maxMessageSize) {
    throw new SipParseError(
      'MESSAGE_TOO_LARGE',
      `message of ${buf.length} bytes exceeds the limit of ${maxMessageSize}`,
    );
  }
  // RFC 3261 §7.5: ignore empty lines before the start line
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
  if (start >= buf.length) throw new SipParseError('EMPTY_MESSAGE', 'empty message');
  const headEnd = buf.indexOf(CRLFCRLF, start);
  if (headEnd < 0) {
    throw new SipParseError('MISSING_HEADER_TERMINATOR', 'no empty line (CRLF CRLF) ends the header section');
  }
  const head = buf.toString('latin1', start, headEnd);
  const headers: HeaderField[] = [];
  /** The raw text of each field, kept to recognise an unchanged header section when serialising. */
  const raws: string[] = [];
  /** How often each of ESSENTIAL_HEADERS occurs. */
  const counts = [0, 0, 0, 0, 0, 0, 0, 0]; // one per ESSENTIAL_HEADERS; cheaper to create than a typed array
  /** Via values read in place while splitting, one per Via field (undefined: not of the usual shape). */
  const vias: Array<Via | undefined> = [];
  let startLine: string;
  let message: SipRequest | SipResponse;
  try {
    startLine = splitHead(head, maxLineLength, maxHeaders, headers, raws, counts, vias);
    // every Via field read in place: the typed view is ready (else it is parsed from the values as usual)
    const via = vias.length > 0 && !vias.includes(undefined) ? (vias as Via[]) : undefined;
    message = parseStartLine(startLine, headers, { head, startLine, raws }, via);
    checkEssentialHeaders(message, counts, buf, headEnd + 4, maxMessageSize, options.transport ?? 'datagram');
  } catch (error) {
    // A bare CR or LF anywhere in the head is the error reported, whatever line comes first (the
    // split finds lines by their CR and leaves a bare LF inside one to the screen below).
    checkLineBreaks(head);
    throw error;
  }
  // One native scan of the head; the exact checks run only when it finds something (a bare LF is
  // reported as such, before any control character).
  if (needsHeadCheck(head)) {
    checkLineBreaks(head);
    checkControlCharacters(startLine, headers);
  }
  return message;
}

/**
 * RFC 3261 §25.1: no control character (NUL included) in the start line, and in a header value only as a
 * quoted-pair inside a quoted string. A NUL would otherwise travel on to elements that read it as the end
 * of the text (C strings in other SIP servers, logs, databases) and see a different message than we did.
 */
function checkControlCharacters(startLine: string, headers: HeaderField[]): void {
  for (let i = 0; i < startLine.length; i++) {
    const c = startLine.charCodeAt(i);
    if (isCtl(c))
      throw new SipParseError('INVALID_START_LINE', `control character ${hex(c)} in the start line`);
  }
  for (const field of headers) {
    const at = forbiddenControlAt(field.value);
    if (at >= 0) {
      throw new SipParseError(
        'INVALID_HEADER_VALUE',
        `control character ${hex(field.value.charCodeAt(at))} in the ${field.name} header`,
        field.key,
      );
    }
  }
}

const hex = (c: number): string => `0x${c.toString(16).padStart(2, '0')}`;

/**
 * Split the head into the start line (returned) and header fields (appended to `headers`, their raw
 * text to `raws`, essential headers counted in `counts`); folded lines are unfolded into their field.
 */
function splitHead(
  head: string,
  maxLineLength: number,
  maxHeaders: number,
  headers: HeaderField[],
  raws: string[],
  counts: number[],
  vias: Array<Via | undefined>,
): string {
  // ---- split lines; unfold continuation lines into the previous field. Every CR must be followed by
  // LF and every LF preceded by CR: a bare CR or LF would let a re-serialised message be framed
  // differently by the next hop than it was read here. Lines are found by their CR, so checking that
  // the next LF is right after it covers both.
  let lineEnd = lineBreakAt(head, 0);
  const startLine = head.slice(0, lineEnd);
  if (lineEnd > maxLineLength)
    throw new SipParseError('LINE_TOO_LONG', `start line longer than ${maxLineLength} bytes`);
  let current: HeaderField | null = null;
  let currentStart = 0;
  while (lineEnd < head.length) {
    const lineStart = lineEnd + 2;
    lineEnd = lineBreakAt(head, lineStart);
    if (lineEnd - lineStart > maxLineLength) {
      throw new SipParseError('LINE_TOO_LONG', `header line longer than ${maxLineLength} bytes`);
    }
    const first = head.charCodeAt(lineStart);
    if (lineEnd > lineStart && (first === 0x20 || first === 0x09)) {
      // LWS continuation (RFC 3261 §7.3.1): equivalent to a single space
      if (current === null)
        throw new SipParseError('INVALID_HEADER_NAME', 'continuation line before the first header field');
      const more = trimWs(head.slice(lineStart, lineEnd));
      if (more.length > 0) current.value = current.value.length > 0 ? `${current.value} ${more}` : more;
      current.raw = head.slice(currentStart, lineEnd);
      raws[raws.length - 1] = current.raw;
      // a folded Via was read from its first line only: leave it to the full parse
      if (current.key === 'via') vias[vias.length - 1] = undefined;
      continue;
    }
    if (headers.length >= maxHeaders) {
      throw new SipParseError('TOO_MANY_HEADERS', `more than ${maxHeaders} header fields`);
    }
    const colon = head.indexOf(':', lineStart);
    if (colon < 0 || colon > lineEnd) {
      throw new SipParseError(
        'INVALID_HEADER_NAME',
        `header line without colon: "${head.slice(lineStart, Math.min(lineEnd, lineStart + 40))}"`,
      );
    }
    // HCOLON = *( SP / HTAB ) ":" SWS
    let nameEnd = colon;
    while (nameEnd > lineStart && isWsp(head.charCodeAt(nameEnd - 1))) nameEnd--;
    const known = nameEnd > lineStart ? wireHeaderNameAt(head, lineStart, nameEnd) : undefined;
    if (known === undefined) {
      throw new SipParseError(
        'INVALID_HEADER_NAME',
        `invalid header name "${head.slice(lineStart, Math.min(nameEnd, lineStart + 40))}"`,
      );
    }
    let valueStart = colon + 1;
    let valueEnd = lineEnd;
    while (valueStart < valueEnd && isWsp(head.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isWsp(head.charCodeAt(valueEnd - 1))) valueEnd--;
    const raw = head.slice(lineStart, lineEnd);
    current = { name: known.name, key: known.key, value: head.slice(valueStart, valueEnd), raw };
    currentStart = lineStart;
    headers.push(current);
    raws.push(raw);
    if (known.essential >= 0) counts[known.essential] = (counts[known.essential] ?? 0) + 1;
    if (known.essential === VIA_SLOT) vias.push(parseCommonViaIn(head, valueStart, valueEnd));
  }
  return startLine;
}

/** Every CR must be followed by LF and every LF preceded by CR (the error path's full check). */
function checkLineBreaks(head: string): void {
  for (let i = head.indexOf('\r'); i >= 0; i = head.indexOf('\r', i + 1)) {
    if (head.charCodeAt(i + 1) !== 0x0a)
      throw new SipParseError('INVALID_HEADER_VALUE', 'bare CR in header section');
  }
  for (let i = head.indexOf('\n'); i >= 0; i = head.indexOf('\n', i + 1)) {
    if (head.charCodeAt(i - 1) !== 0x0d)
      throw new SipParseError('INVALID_HEADER_VALUE', 'bare LF in header section');
  }
}

/**
 * End of the line starting at `from` (the index of its CR, or the end of the head for the last line);
 * throws on a bare CR. A bare LF inside the line is left to the head's screen (`needsHeadCheck` in
 * parseBuffer): one search per line instead of two.
 */
function lineBreakAt(head: string, from: number): number {
  const cr = head.indexOf('\r', from);
  if (cr < 0) return head.length;
  if (head.charCodeAt(cr + 1) !== 0x0a)
    throw new SipParseError('INVALID_HEADER_VALUE', 'bare CR in header section');
  return cr;
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT; only 2.0 is supported (505 otherwise). */
function checkVersion(version: string, inResponse: boolean): void {
  if (version.length === 7 && version.toUpperCase() === 'SIP/2.0') return;
  const upper = version.toUpperCase();
  let ok = upper.startsWith('SIP/');
  let dots = 0;
  let digits = 0;
  for (let i = 4; ok && i < upper.length; i++) {
    const c = upper.charCodeAt(i);
    if (c === 0x2e) dots++;
    else if (isDigit(c)) digits++;
    else ok = false;
  }
  if (ok && dots === 1 && digits >= 2 && !upper.endsWith('.') && upper[4] !== '.') {
    throw new SipParseError('UNSUPPORTED_VERSION', `unsupported SIP version "${version.slice(0, 20)}"`);
  }
  throw new SipParseError(
    'INVALID_START_LINE',
    inResponse
      ? `invalid status line version "${version.slice(0, 20)}"`
      : `invalid request line: bad version "${version.slice(0, 20)}"`,
  );
}

function parseStartLine(
  line: string,
  headers: HeaderField[],
  received: ReceivedHead,
  via: Via[] | undefined,
): SipRequest | SipResponse {
  if (line.length === 0) throw new SipParseError('INVALID_START_LINE', 'empty start line');
  if (line.startsWith('SIP/') || line.startsWith('sip/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) throw new SipParseError('INVALID_START_LINE', 'status line without status code');
    checkVersion(line.slice(0, sp1), true);
    let sp2 = line.indexOf(' ', sp1 + 1);
    if (sp2 < 0) sp2 = line.length;
    const code = line.slice(sp1 + 1, sp2);
    if (
      code.length !== 3 ||
      !isDigit(code.charCodeAt(0)) ||
      !isDigit(code.charCodeAt(1)) ||
      !isDigit(code.charCodeAt(2))
    ) {
      throw new SipParseError('INVALID_STATUS_CODE', `invalid status code "${code.slice(0, 20)}"`);
    }
    const status = Number(code);
    if (status < 100 || status > 699)
      throw new SipParseError('INVALID_STATUS_CODE', `status code ${status} out of range 100-699`);
    const reason = sp2 < line.length ? line.slice(sp2 + 1) : '';
    return new SipResponse({
      status,
      reason,
      wireReason: true,
      headers,
      rawStartLine: line,
      received,
      via,
    });
  }

  // Request-Line = Method SP Request-URI SP SIP-Version (single spaces, no trailing whitespace)
  const sp1 = line.indexOf(' ');
  let sp2 = line.length - 1; // the last space (the version is short: a backwards scan is quickest)
  while (sp2 >= 0 && line.charCodeAt(sp2) !== 0x20) sp2--;
  if (sp1 <= 0 || sp2 === sp1)
    throw new SipParseError('INVALID_START_LINE', `invalid request line "${line.slice(0, 60)}"`);
  const method = line.slice(0, sp1);
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    if (c > 127 || TOKEN[c] !== 1)
      throw new SipParseError('INVALID_METHOD', `invalid method "${method.slice(0, 40)}"`);
  }
  const version = line.slice(sp2 + 1);
  if (version.length === 0)
    throw new SipParseError('INVALID_START_LINE', 'trailing whitespace in request line');
  const uriText = line.slice(sp1 + 1, sp2);
  // No URI grammar accepts whitespace, so it is looked for only once the URI failed to parse (the
  // whitespace error still comes first, as a bad version is not the problem then).
  let uri: Uri | undefined;
  let uriError: SipParseError | undefined;
  try {
    uri = parseUri(uriText);
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
    for (let i = 0; i < uriText.length; i++) {
      if (isWsp(uriText.charCodeAt(i))) {
        throw new SipParseError(
          'INVALID_REQUEST_URI',
          'whitespace in Request-URI or between request line elements',
        );
      }
    }
    uriError = error;
  }
  checkVersion(version, false);
  if (uri === undefined) {
    throw new SipParseError('INVALID_REQUEST_URI', `Request-URI: ${uriError?.message ?? 'invalid'}`);
  }
  if (uri.kind === 'sip' && uri.headers.size > 0) {
    throw new SipParseError(
      'REQUEST_URI_HAS_HEADERS',
      'Request-URI must not contain headers (RFC 3261 §19.1.5)',
    );
  }
  return new SipRequest({ method, uri, headers, rawStartLine: line, received, via });
}

function checkEssentialHeaders(
  message: SipRequest | SipResponse,
  counts: number[],
  buf: Buffer,
  bodyStart: number,
  maxMessageSize: number,
  transport: 'datagram' | 'stream',
): void {
  for (let i = 0; i < ESSENTIAL_HEADERS.length; i++) {
    const key = ESSENTIAL_HEADERS[i] as string;
    const n = counts[i] ?? 0;
    if (n === 0 && MANDATORY.includes(key)) {
      throw new SipParseError('MISSING_HEADER', `missing ${canonicalHeaderName(key)} header`, key);
    }
    if (n > 1 && key !== 'via') {
      throw new SipParseError(
        'DUPLICATE_HEADER',
        `${canonicalHeaderName(key)} header appears more than once`,
        key,
      );
    }
  }
  // Parse (and cache) what the transaction layer reads from every message.
  if (message.via.length === 0) throw new SipParseError('MISSING_HEADER', 'missing Via header', 'via');
  void message.from;
  void message.to;
  void message.callId;
  const cseq = message.cseq;
  if (message instanceof SipRequest && cseq.method !== message.method) {
    throw new SipParseError(
      'CSEQ_METHOD_MISMATCH',
      `CSeq method "${cseq.method.slice(0, 30)}" does not match request method "${message.method.slice(0, 30)}"`,
      'cseq',
    );
  }
  void message.maxForwards;

  // Body framing (RFC 3261 §18.3)
  const available = buf.length - bodyStart;
  const declared = message.contentLength;
  if (declared === undefined) {
    if (transport === 'stream') {
      throw new SipParseError(
        'MISSING_CONTENT_LENGTH',
        'Content-Length is mandatory on stream transports',
        'content-length',
      );
    }
    message.body = Buffer.from(buf.subarray(bodyStart));
    return;
  }
  if (declared > maxMessageSize) {
    throw new SipParseError(
      'INVALID_CONTENT_LENGTH',
      `Content-Length ${declared} exceeds the limit ${maxMessageSize}`,
      'content-length',
    );
  }
  if (declared > available) {
    throw new SipParseError(
      'BODY_TRUNCATED',
      `Content-Length ${declared} is larger than the ${available} body bytes received`,
      'content-length',
    );
  }
  if (transport === 'stream' && declared !== available) {
    throw new SipParseError(
      'INVALID_CONTENT_LENGTH',
      `Content-Length ${declared} does not match the framed body of ${available} bytes`,
      'content-length',
    );
  }
  const body = Buffer.allocUnsafe(declared);
  buf.copy(body, 0, bodyStart, bodyStart + declared);
  message.body = body;
}

export interface ValidateOptions {
  /** Request-URI schemes this element handles; others get 416 (default: sip, sips, tel). */
  supportedUriSchemes?: readonly string[];
}

/**
 * Full syntax check of every header this package knows (plus duplicate single-valued headers), for the
 * sanity stage of a UAS or proxy. Throws SipParseError naming the first problem.
 */
export function validateMessage(message: SipMessage, options: ValidateOptions = {}): void {
  guardParse(() => {
    const counts = new Map<string, number>();
    for (const h of message.headers) counts.set(h.key, (counts.get(h.key) ?? 0) + 1);
    for (const [key, n] of counts) {
      if (n > 1 && SINGLE_HEADERS.has(key)) {
        throw new SipParseError(
          'DUPLICATE_HEADER',
          `${canonicalHeaderName(key)} header appears more than once`,
          key,
        );
      }
    }
    void message.via;
    void message.from;
    void message.to;
    void message.callId;
    void message.cseq;
    void message.maxForwards;
    void message.contentLength;
    const has = (k: string): boolean => counts.has(k);
    if (has('contact')) void message.contact;
    if (has('expires')) void message.expires;
    if (has('min-expires')) void message.minExpires;
    if (has('route')) void message.route;
    if (has('record-route')) void message.recordRoute;
    if (has('path')) void message.path;
    if (has('service-route')) void message.serviceRoute;
    if (has('supported')) void message.supported;
    if (has('require')) void message.require;
    if (has('proxy-require')) void message.proxyRequire;
    if (has('unsupported')) void message.unsupported;
    if (has('allow')) void message.allow;
    if (has('content-type')) void message.contentType;
    if (has('rseq')) void message.rseq;
    if (has('rack')) void message.rack;
    if (has('session-expires')) void message.sessionExpires;
    if (has('min-se')) void message.minSE;
    if (has('reason')) void message.reasons;
    if (has('date')) void message.date;
    if (has('authorization')) void message.authorization;
    if (has('proxy-authorization')) void message.proxyAuthorization;
    if (has('www-authenticate')) void message.wwwAuthenticate;
    if (has('proxy-authenticate')) void message.proxyAuthenticate;
    for (const key of ['reply-to', 'refer-to', 'referred-by']) {
      for (const v of message.fields(key)) parseNameAddr(v.value, key);
    }
    if (message instanceof SipRequest) {
      const schemes = options.supportedUriSchemes ?? ['sip', 'sips', 'tel'];
      const scheme = message.uri.scheme;
      if (!schemes.includes(scheme)) {
        throw new SipParseError(
          'UNSUPPORTED_URI_SCHEME',
          `unsupported Request-URI scheme "${scheme.slice(0, 30)}"`,
        );
      }
    }
  });
}
