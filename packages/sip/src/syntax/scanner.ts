import { isCtl, isWsp, TOKEN, trimWs } from './charset.ts';
import { SipParseError } from './errors.ts';

/**
 * A forward-only cursor over one unfolded header value (a wire string). Each method consumes what it
 * recognises or throws a SipParseError naming the header; nothing backtracks more than one character.
 */
export class Scanner {
  pos = 0;
  constructor(
    readonly s: string,
    /** Canonical header name, used in error messages. */
    readonly header: string,
  ) {}

  get eof(): boolean {
    return this.pos >= this.s.length;
  }

  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }

  fail(what: string): never {
    const near = this.s.slice(this.pos, this.pos + 20);
    throw new SipParseError(
      'INVALID_HEADER_VALUE',
      `${this.header}: ${what} at offset ${this.pos}${near ? ` near "${near}"` : ''}`,
      this.header,
    );
  }

  /** Skip SP / HTAB (folded lines were already turned into single spaces). */
  skipWs(): void {
    while (this.pos < this.s.length && isWsp(this.s.charCodeAt(this.pos))) this.pos++;
  }

  /** Consume `c` (a char code) surrounded by optional whitespace, or report false without consuming. */
  eatSep(c: number): boolean {
    const save = this.pos;
    this.skipWs();
    if (this.peek() === c) {
      this.pos++;
      this.skipWs();
      return true;
    }
    this.pos = save;
    return false;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.pos++;
  }

  /** Read 1*token characters. */
  token(what = 'token'): string {
    const start = this.pos;
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c > 127 || TOKEN[c] !== 1) break;
      this.pos++;
    }
    if (this.pos === start) this.fail(`expected ${what}`);
    return this.s.slice(start, this.pos);
  }

  /** Read characters while the table allows them (possibly none). */
  run(t: Uint8Array): string {
    const start = this.pos;
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c > 127 || t[c] !== 1) break;
      this.pos++;
    }
    return this.s.slice(start, this.pos);
  }

  /** Read a quoted-string starting at the current DQUOTE; returns it raw, quotes included. */
  quotedString(): string {
    const start = this.pos;
    this.expect(0x22, 'opening quote');
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x5c) {
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        const next = this.s.charCodeAt(this.pos + 1);
        if (Number.isNaN(next) || next === 0x0a || next === 0x0d || next > 0x7f) {
          this.fail('invalid escape in quoted string');
        }
        this.pos += 2;
        continue;
      }
      if (c === 0x22) {
        this.pos++;
        return this.s.slice(start, this.pos);
      }
      if (c === 0x0d || c === 0x0a) this.fail('line break in quoted string');
      // qdtext excludes CTLs but HTAB (RFC 3261 §25.1): a NUL is allowed only as a quoted-pair
      if (isCtl(c)) this.fail('control character in quoted string');
      this.pos++;
    }
    return this.fail('unterminated quoted string');
  }
}

/** Remove the quotes of a raw quoted-string and resolve its quoted-pairs. */
export function unquote(raw: string): string {
  if (raw.length < 2 || raw.charCodeAt(0) !== 0x22) return raw;
  const inner = raw.slice(1, -1);
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === '\\' && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Quote a string as a quoted-string, escaping backslash and DQUOTE. */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

/**
 * Split a header value at top-level commas: commas inside quoted strings or angle brackets do not count.
 * Used for the headers whose grammar is a comma-separated list (Via, Contact, Route, Supported, ...).
 */
export function splitList(value: string, header: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) {
      inQuote = true;
    } else if (c === 0x3c) {
      inAngle = true;
    } else if (c === 0x3e) {
      inAngle = false;
    } else if (c === 0x2c && !inAngle) {
      out.push(trimWs(value.slice(start, i)));
      start = i + 1;
    }
  }
  if (inQuote) {
    throw new SipParseError('INVALID_HEADER_VALUE', `${header}: unterminated quoted string`, header);
  }
  out.push(trimWs(value.slice(start)));
  return out;
}
