import { isCtl, TOKEN, wireToText } from '../syntax/charset.ts';
import { SipParseError } from '../syntax/errors.ts';
import { type Param, Params, parseParams, scanCompactParams } from '../syntax/params.ts';
import { quote, Scanner, unquote } from '../syntax/scanner.ts';
import { parseUri, type Uri } from './uri.ts';

/**
 * An address as used by From, To, Contact, Route, Record-Route, Path, Service-Route, Reply-To...:
 * optional display name, a URI, and header parameters (tag, expires, q, +sip.instance, ...).
 */
export class NameAddr {
  /** Display name as readable text (quotes removed, escapes resolved, UTF-8 decoded). */
  displayName: string | undefined;
  uri: Uri;
  params: Params;

  constructor(uri: Uri, displayName?: string, params?: Params) {
    this.uri = uri;
    this.displayName = displayName;
    this.params = params ?? new Params();
  }

  get tag(): string | undefined {
    const t = this.params.get('tag');
    return typeof t === 'string' ? t : undefined;
  }

  set tag(value: string | undefined) {
    if (value === undefined) this.params.delete('tag');
    else this.params.set('tag', value);
  }

  clone(): NameAddr {
    return new NameAddr(this.uri.clone(), this.displayName, this.params.clone());
  }

  /**
   * Always written in name-addr form (`"Name" <uri>;params`), which is valid for every URI. Like every
   * typed view it prints text: pass it to setHeader(), which encodes it for the wire.
   */
  toString(): string {
    const dn = this.displayName === undefined ? '' : `${quote(this.displayName)} `;
    return `${dn}<${this.uri.toString()}>${this.params.toString(';')}`;
  }
}

/**
 * Parse one name-addr or addr-spec with its header parameters at the scanner position
 * (RFC 3261 §20.10, §25.1). In addr-spec form the URI ends at the first ";", "," or whitespace, and may not
 * contain "?" (URIs with headers, semicolons or commas must be enclosed in angle brackets).
 */
export function parseNameAddrAt(sc: Scanner): NameAddr {
  sc.skipWs();
  let displayName: string | undefined;
  let c = sc.peek();
  if (c === 0x22) {
    displayName = wireToText(unquote(sc.quotedString()));
    sc.skipWs();
    if (sc.peek() !== 0x3c) sc.fail('expected "<" after display name');
    return parseAngle(sc, displayName);
  }
  if (c === 0x3c) return parseAngle(sc, undefined);

  // Either *(token LWS) "<" ... or an addr-spec; look ahead over tokens without consuming on failure.
  const start = sc.pos;
  let end = start;
  while (c >= 0 && c < 128 && TOKEN[c] === 1) {
    sc.token();
    end = sc.pos;
    sc.skipWs();
    c = sc.peek();
  }
  if (c === 0x3c && end > start) {
    displayName = wireToText(sc.s.slice(start, end).replace(/[ \t]+/g, ' '));
    return parseAngle(sc, displayName);
  }
  sc.pos = start;
  return parseAddrSpec(sc);
}

function parseAngle(sc: Scanner, displayName: string | undefined): NameAddr {
  sc.pos++; // "<"
  const close = sc.s.indexOf('>', sc.pos);
  if (close < 0) sc.fail('missing ">"');
  const text = sc.s.slice(sc.pos, close);
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x20 || ch === 0x09) sc.fail('whitespace inside angle brackets');
  }
  const uri = parseUriIn(sc, text);
  sc.pos = close + 1;
  const params = parseParams(sc);
  return new NameAddr(uri, displayName, params);
}

function parseAddrSpec(sc: Scanner): NameAddr {
  const start = sc.pos;
  while (!sc.eof) {
    const ch = sc.peek();
    if (ch === 0x3b || ch === 0x2c || ch === 0x20 || ch === 0x09) break;
    sc.pos++;
  }
  const text = sc.s.slice(start, sc.pos);
  if (text.length === 0) sc.fail('missing address');
  if (text.indexOf('?') >= 0) sc.fail('URI with headers must be enclosed in angle brackets');
  let uri: Uri;
  try {
    uri = parseUri(text);
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
    if (sc.s.indexOf('<', start) >= 0) {
      sc.pos = start;
      sc.fail('display name containing separators (",", ":", ...) must be a quoted string');
    }
    sc.fail(error.message);
  }
  const params = parseParams(sc);
  return new NameAddr(uri, undefined, params);
}

function parseUriIn(sc: Scanner, text: string): Uri {
  try {
    return parseUri(text);
  } catch (error) {
    if (error instanceof SipParseError) sc.fail(error.message);
    throw error;
  }
}

/**
 * Fast path for the usual shapes of an address: `"Name" <uri>;params`, `Name Name <uri>;params` and
 * `<uri>;params`, single spaces, compact parameters. Returns undefined for anything else (addr-spec
 * form, other spacing, escapes, invalid text), which then goes through the full grammar; it accepts
 * nothing the full grammar rejects and builds the same address.
 */
function parseCommonNameAddr(value: string): NameAddr | undefined {
  const n = value.length;
  let pos = 0;
  let displayName: string | undefined;
  let c = value.charCodeAt(0);
  if (c === 0x22) {
    for (pos = 1; ; pos++) {
      if (pos >= n) return undefined;
      c = value.charCodeAt(pos);
      if (c === 0x22) break;
      if (c === 0x5c || isCtl(c)) return undefined;
    }
    displayName = wireToText(value.slice(1, pos));
    pos++;
    if (value.charCodeAt(pos) === 0x20) pos++;
  } else if (c !== 0x3c) {
    // *(token SP) before "<"; a token display name must be followed by "<" (else it is an addr-spec)
    for (;;) {
      const start = pos;
      while (pos < n) {
        c = value.charCodeAt(pos);
        if (c > 127 || TOKEN[c] !== 1) break;
        pos++;
      }
      if (pos === start) return undefined;
      if (c !== 0x20) break;
      if (value.charCodeAt(pos + 1) === 0x3c) {
        displayName = value.slice(0, pos);
        pos++;
        break;
      }
      pos++;
    }
    if (displayName === undefined) {
      if (c !== 0x3c) return undefined;
      displayName = value.slice(0, pos);
    }
  }
  if (value.charCodeAt(pos) !== 0x3c) return undefined;
  const close = value.indexOf('>', pos);
  if (close < 0) return undefined;
  // no whitespace check: no URI grammar accepts whitespace, so such text fails here and goes the full way
  const uri = tryParseUri(value.slice(pos + 1, close));
  if (uri === undefined) return undefined;
  const list: Param[] = [];
  if (scanCompactParams(value, close + 1, list) !== n) return undefined;
  return new NameAddr(uri, displayName, new Params(list));
}

function tryParseUri(text: string): Uri | undefined {
  try {
    return parseUri(text);
  } catch (error) {
    if (error instanceof SipParseError) return undefined;
    throw error;
  }
}

/**
 * Parse a complete single-address header value (From, To, Reply-To, ...). `value` is a wire string (as
 * stored in HeaderField.value); convert arbitrary text with textToWire() first.
 */
export function parseNameAddr(value: string, header = 'address'): NameAddr {
  const common = parseCommonNameAddr(value);
  if (common !== undefined) return common;
  const sc = new Scanner(value, header);
  const na = parseNameAddrAt(sc);
  sc.skipWs();
  if (!sc.eof) sc.fail('unexpected text after address');
  return na;
}
