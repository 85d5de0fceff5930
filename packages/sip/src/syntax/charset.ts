/**
 * Character classes of the RFC 3261 §25 grammar as 128-entry lookup tables: every scanner in this
 * package walks strings with charCodeAt and these tables, never with backtracking regular expressions.
 */

function table(chars: string, ranges: Array<[number, number]> = []): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  for (const [from, to] of ranges) for (let c = from; c <= to; c++) t[c] = 1;
  return t;
}

const ALNUM: Array<[number, number]> = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~", ALNUM);
/** word: token characters plus the separators allowed in Call-ID. */
export const WORD = table('-.!%*_+`\'~()<>:\\"/[]?{}', ALNUM);
/** unreserved = alphanum / mark */
export const UNRESERVED = table("-_.!~*'()", ALNUM);
/** user = 1*( unreserved / escaped / user-unreserved ) */
export const USER = table("-_.!~*'()&=+$,;?/", ALNUM);
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table("-_.!~*'()&=+$,", ALNUM);
/** paramchar = param-unreserved / unreserved / escaped */
export const PARAMCHAR = table("-_.!~*'()[]/:&+$", ALNUM);
/** hname / hvalue characters = hnv-unreserved / unreserved / escaped */
export const HNVCHAR = table("-_.!~*'()[]/?:+$", ALNUM);
/** hostname characters (underscore tolerated: seen in deployed DNS names). */
export const HOSTCHAR = table('-._', ALNUM);
/** Characters of an IPv6 reference between the brackets. */
export const IPV6CHAR = table(':.', [
  [0x30, 0x39],
  [0x41, 0x46],
  [0x61, 0x66],
]);
/** Characters that may appear in a URI outside angle brackets with no special meaning to a header. */
export const URIC = table("-_.!~*'()&=+$,;?/:@[]%#", ALNUM);

export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
export const isHex = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
export const isWsp = (c: number): boolean => c === 0x20 || c === 0x09;

/** True when every character of `s` is in table `t` (and `s` is non-empty). */
export function allIn(s: string, t: Uint8Array): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || t[c] !== 1) return false;
  }
  return true;
}

/**
 * True when `s` consists of characters of table `t` and well-formed escapes (%HH).
 * Used for URI components that allow `escaped`.
 */
export function allInEscaped(s: string, t: Uint8Array, allowEmpty = false): boolean {
  if (s.length === 0) return allowEmpty;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= s.length) return false;
      if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (c > 127 || t[c] !== 1) return false;
  }
  return true;
}

export const isToken = (s: string): boolean => allIn(s, TOKEN);

/**
 * A control character (CTL, RFC 5234 B.1) other than HTAB, CR and LF. RFC 3261 §25.1 lets none of them
 * into a header value (TEXT-UTF8char = %x21-7E / UTF8-NONASCII, qdtext likewise) or the start line; the one
 * place they may appear is a quoted-pair (`"\" %x00-09 / %x0B-0C / %x0E-7F`) inside a quoted string.
 */
export const isCtl = (c: number): boolean => (c < 0x20 && c !== 0x09) || c === 0x7f;

/** Quick screen of a head or value: true when some CTL other than HTAB/CR/LF occurs anywhere in it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
const ANY_CTL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/**
 * The same set written as its complement over one-byte characters, which V8 scans about a quarter
 * faster: for wire strings (one char per byte, as the parser reads a head), where nothing lies above
 * 0xFF. It runs over every received head.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job
const WIRE_CTL = /[^\x09\x0a\x0d\x20-\x7e\x80-\xff]|(?<!\r)\n/;
/**
 * True when a wire string holds some CTL other than HTAB/CR/LF, or an LF without the CR before it (the
 * parser finds lines by their CR and leaves a bare LF to this screen).
 */
export const needsHeadCheck = (wire: string): boolean => WIRE_CTL.test(wire);

/**
 * Index of the first control character in a header value that the grammar does not allow there, or -1:
 * a CTL (other than HTAB) is allowed only escaped by a backslash inside a quoted string (RFC 3261 §25.1,
 * exercised by RFC 4475 §3.1.1.2). The value is an unfolded wire string (no CR or LF left in it).
 */
export function forbiddenControlAt(value: string): number {
  if (!ANY_CTL.test(value)) return -1;
  let inQuote = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote && c === 0x5c) {
      i++; // quoted-pair: the escaped character may be any CTL but CR and LF
      if (i < value.length && (value.charCodeAt(i) === 0x0d || value.charCodeAt(i) === 0x0a)) return i;
      continue;
    }
    if (c === 0x22) inQuote = !inQuote;
    else if (isCtl(c)) return i;
  }
  return -1;
}

/**
 * Remove leading and trailing SP / HTAB only. String.prototype.trim() also strips U+00A0, which in a
 * wire string is byte 0xA0, the last byte of many UTF-8 characters ("à" is C3 A0).
 */
export function trimWs(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWsp(s.charCodeAt(start))) start++;
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Decode %HH escapes (bytes) and interpret the result as UTF-8. Malformed escapes are kept literally. */
export function unescapeUri(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s[i] as string, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Escape every character of `s` that is not in table `t` as %HH of its UTF-8 bytes. */
export function escapeUri(s: string, t: Uint8Array): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && t[c] === 1) {
      out += s[i];
      continue;
    }
    const cp = s.codePointAt(i) as number;
    const ch = String.fromCodePoint(cp);
    if (cp > 0xffff) i++;
    for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Header text is kept as "wire strings": one JS char per byte (latin1), so that an unmodified header
 * serialises back to exactly the bytes received, whatever its encoding. These two helpers convert between
 * wire strings and ordinary (UTF-8 decoded) JS strings for the values people read and write.
 */
export function wireToText(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'latin1').toString('utf8');
  }
  return s;
}

export function textToWire(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}
