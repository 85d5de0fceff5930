import { isCtl, isWsp, TOKEN, wireToText } from './charset.ts';
import type { Scanner } from './scanner.ts';
import { unquote } from './scanner.ts';

export interface Param {
  /** Name as written (names compare case-insensitively). */
  name: string;
  /** Value as written (quotes kept, UTF-8 decoded), or null for a parameter without value (`;lr`, `;rport`). */
  value: string | null;
}

/**
 * An ordered parameter list (`;name=value;flag`). Order and spelling are preserved so that a re-serialised
 * header stays recognisable; lookups ignore case of the name.
 */
export class Params {
  readonly list: Param[];

  constructor(list: Param[] = []) {
    this.list = list;
  }

  private index(name: string): number {
    const list = this.list;
    const lower = name.toLowerCase();
    for (let i = 0; i < list.length; i++) {
      const n = (list[i] as Param).name;
      // same spelling (the usual case) or same length and equal ignoring case
      if (n === name || (n.length === lower.length && n.toLowerCase() === lower)) return i;
    }
    return -1;
  }

  has(name: string): boolean {
    return this.index(name) >= 0;
  }

  /**
   * Value as text (quotes removed); null when the parameter is present without a value;
   * undefined when absent.
   */
  get(name: string): string | null | undefined {
    const i = this.index(name);
    if (i < 0) return undefined;
    const v = (this.list[i] as Param).value;
    return v === null ? null : unquote(v);
  }

  /** Value exactly as written (quotes kept). */
  getRaw(name: string): string | null | undefined {
    const i = this.index(name);
    return i < 0 ? undefined : (this.list[i] as Param).value;
  }

  /** Set (replace or append) a parameter; `value` is written as given (quote it yourself if needed). */
  set(name: string, value: string | null = null): this {
    const i = this.index(name);
    if (i >= 0) (this.list[i] as Param).value = value;
    else this.list.push({ name, value });
    return this;
  }

  delete(name: string): boolean {
    const i = this.index(name);
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  get size(): number {
    return this.list.length;
  }

  clone(): Params {
    return new Params(this.list.map((p) => ({ ...p })));
  }

  /** `;a=b;c` form (empty string when there are no parameters). */
  toString(separator = ';'): string {
    let out = '';
    for (const p of this.list)
      out += p.value === null ? `${separator}${p.name}` : `${separator}${p.name}=${p.value}`;
    return out;
  }
}

/** Value characters accepted in generic parameters: token plus what hosts (IPv6) and URNs need. */
const GEN_VALUE = new Uint8Array(128);
for (let c = 0; c < 128; c++) GEN_VALUE[c] = TOKEN[c] as number;
for (const ch of '[]:/@?&$#') GEN_VALUE[ch.charCodeAt(0)] = 1;

/**
 * Fast path for the common compact form of a parameter list: `;name=value;flag;name="quoted"` with no
 * whitespace and no escapes in quoted values. Appends what it reads to `list` and returns the position
 * of the first character that does not continue the list, or -1 when the text needs the full grammar
 * (parseParams), which then also produces the error message if the text is invalid. Accepts exactly
 * what parseParams accepts for this form, with the same values.
 */
export function scanCompactParams(s: string, pos: number, list: Param[]): number {
  const n = s.length;
  while (pos < n && s.charCodeAt(pos) === 0x3b) {
    const nameStart = ++pos;
    while (pos < n) {
      const c = s.charCodeAt(pos);
      if (c > 127 || TOKEN[c] !== 1) break;
      pos++;
    }
    if (pos === nameStart) return -1;
    const name = s.slice(nameStart, pos);
    if (pos >= n || s.charCodeAt(pos) !== 0x3d) {
      list.push({ name, value: null });
      continue;
    }
    const valueStart = ++pos;
    if (s.charCodeAt(pos) === 0x22) {
      // quoted-string without quoted-pairs; UTF-8 bytes are decoded like parseParams does
      for (pos++; ; pos++) {
        if (pos >= n) return -1;
        const c = s.charCodeAt(pos);
        if (c === 0x22) break;
        if (c === 0x5c || isCtl(c)) return -1;
      }
      pos++;
      list.push({ name, value: wireToText(s.slice(valueStart, pos)) });
      continue;
    }
    while (pos < n) {
      const c = s.charCodeAt(pos);
      if (c > 127 || GEN_VALUE[c] !== 1) break;
      pos++;
    }
    if (pos === valueStart) return -1;
    list.push({ name, value: s.slice(valueStart, pos) });
  }
  return pos;
}

/**
 * Parse `*( SEMI generic-param )` at the scanner position. Stops at a comma, end of value, or any
 * character that cannot continue a parameter list (the caller decides whether that is an error).
 */
export function parseParams(sc: Scanner): Params {
  const list: Param[] = [];
  for (;;) {
    const save = sc.pos;
    sc.skipWs();
    if (sc.peek() !== 0x3b) {
      sc.pos = save;
      break;
    }
    sc.pos++;
    sc.skipWs();
    const name = sc.token('parameter name');
    let value: string | null = null;
    if (sc.eatSep(0x3d)) {
      // values are kept as text (UTF-8 decoded) like every typed view; toString() output goes to setHeader()
      if (sc.peek() === 0x22) value = wireToText(sc.quotedString());
      else {
        value = sc.run(GEN_VALUE);
        if (value.length === 0) sc.fail(`empty value for parameter "${name}"`);
      }
    }
    list.push({ name, value });
  }
  // trailing whitespace before a comma or the end is fine
  while (!sc.eof && isWsp(sc.peek())) sc.pos++;
  return new Params(list);
}
