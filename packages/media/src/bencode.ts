import { isAscii } from 'node:buffer';

/**
 * Bencode, as rtpengine's NG protocol uses it: every byte string is read as UTF-8 text, integers
 * become numbers, lists arrays and dictionaries objects without a prototype. One message is encoded
 * into one string and converted to bytes once (the structure is ASCII, so each string's length prefix
 * is its UTF-8 byte length), and decoded by one scan over the bytes: the `bencode` package that
 * rtpengine-client brings allocates a Buffer per item and spent 4-5 % of a call's CPU here (calls
 * bench profile, docs/performance.md).
 */

/** A value the NG protocol carries. */
export type BencodeValue = string | number | boolean | BencodeValue[] | BencodeDictionary;
export interface BencodeDictionary {
  [key: string]: BencodeValue | undefined | null;
}

/** Nesting deeper than this is refused: an rtpengine reply nests four or five levels. */
const MAX_DEPTH = 64;

/**
 * The bencoded text of `value`. Dictionary keys are written in sorted order (BEP 3); keys whose
 * value is undefined or null are left out, as are such list items. Booleans are 1 and 0.
 */
export function encodeBencode(value: BencodeValue): string {
  return encodeValue(value, 0);
}

function encodeValue(value: BencodeValue, depth: number): string {
  if (depth > MAX_DEPTH) throw new RangeError('bencode: nesting too deep');
  switch (typeof value) {
    case 'string':
      return `${Buffer.byteLength(value)}:${value}`;
    case 'number':
      if (!Number.isSafeInteger(value)) throw new RangeError(`bencode: ${value} is not an integer`);
      return `i${value}e`;
    case 'boolean':
      return value ? 'i1e' : 'i0e';
    default:
      break;
  }
  if (Array.isArray(value)) {
    let text = 'l';
    for (const item of value) {
      if (item !== undefined && item !== null) text += encodeValue(item, depth + 1);
    }
    return `${text}e`;
  }
  if (ArrayBuffer.isView(value)) throw new TypeError('bencode: byte arrays are not NG values');
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`bencode: cannot encode a ${value === null ? 'null' : typeof value}`);
  }
  let text = 'd';
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if (item !== undefined && item !== null)
      text += `${Buffer.byteLength(key)}:${key}${encodeValue(item, depth + 1)}`;
  }
  return `${text}e`;
}

/** Decodes the bencoded value that fills `bytes` from `start` to the end; anything else throws. */
export function decodeBencode(bytes: Uint8Array, start = 0): BencodeValue {
  const reader = new Reader(
    Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    start,
  );
  const value = reader.value(0);
  if (reader.at !== reader.text.length) throw new SyntaxError(`bencode: trailing data at byte ${reader.at}`);
  return value;
}

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const CHAR_COLON = 0x3a;
const CHAR_MINUS = 0x2d;
const CHAR_D = 0x64;
const CHAR_E = 0x65;
const CHAR_I = 0x69;
const CHAR_L = 0x6c;

/**
 * One pass over the message read as latin1, one character per byte, so positions are byte offsets.
 * A message that is all ASCII (rtpengine's replies are: SDP and NG keys) yields its strings as
 * substrings of that text; otherwise each string is decoded from its bytes as UTF-8.
 */
class Reader {
  at: number;
  readonly text: string;
  private readonly bytes: Buffer;
  private readonly ascii: boolean;
  private readonly start: number;

  constructor(bytes: Buffer, start: number) {
    this.bytes = bytes;
    this.at = 0;
    this.text = bytes.toString('latin1', start);
    this.ascii = isAscii(start === 0 ? bytes : bytes.subarray(start));
    this.start = start;
  }

  value(depth: number): BencodeValue {
    if (depth > MAX_DEPTH) throw new SyntaxError('bencode: nesting too deep');
    const lead = this.text.charCodeAt(this.at);
    if (lead === CHAR_D) return this.dictionary(depth);
    if (lead === CHAR_L) return this.list(depth);
    if (lead === CHAR_I) return this.integer();
    if (lead >= CHAR_0 && lead <= CHAR_9) return this.string();
    throw this.error('a value');
  }

  private dictionary(depth: number): BencodeDictionary {
    this.at++;
    // Without a prototype: V8 keeps such an object as a hash table, so keys that are data (the tags
    // and SSRCs of every call) do not grow a hidden class per call, and __proto__ is a key like others.
    const dictionary: BencodeDictionary = Object.create(null);
    while (this.text.charCodeAt(this.at) !== CHAR_E) dictionary[this.string()] = this.value(depth + 1);
    this.at++;
    return dictionary;
  }

  private list(depth: number): BencodeValue[] {
    this.at++;
    const list: BencodeValue[] = [];
    while (this.text.charCodeAt(this.at) !== CHAR_E) list.push(this.value(depth + 1));
    this.at++;
    return list;
  }

  /** `i<digits>e`, with an optional minus sign. */
  private integer(): number {
    const text = this.text;
    let at = this.at + 1;
    const negative = text.charCodeAt(at) === CHAR_MINUS;
    if (negative) at++;
    const first = at;
    let value = 0;
    for (let code = text.charCodeAt(at); code !== CHAR_E; code = text.charCodeAt(++at)) {
      // NaN past the end fails both comparisons' negation, so it lands here too.
      if (!(code >= CHAR_0 && code <= CHAR_9)) throw this.error('a digit', at);
      value = value * 10 + (code - CHAR_0);
    }
    if (at === first) throw this.error('a digit', at);
    this.at = at + 1;
    return negative ? -value : value;
  }

  /** `<length>:<bytes>`, read as UTF-8. */
  private string(): string {
    const text = this.text;
    let at = this.at;
    let length = 0;
    for (let code = text.charCodeAt(at); code !== CHAR_COLON; code = text.charCodeAt(++at)) {
      if (!(code >= CHAR_0 && code <= CHAR_9)) throw this.error('a string length', at);
      length = length * 10 + (code - CHAR_0);
    }
    if (at === this.at) throw this.error('a string length', at);
    const end = at + 1 + length;
    if (end > text.length) throw new SyntaxError(`bencode: string at byte ${this.at} runs past the end`);
    this.at = end;
    if (this.ascii) return text.substring(at + 1, end);
    return this.bytes.toString('utf8', this.start + at + 1, this.start + end);
  }

  private error(expected: string, at = this.at): SyntaxError {
    return new SyntaxError(`bencode: expected ${expected} at byte ${at}`);
  }
}
