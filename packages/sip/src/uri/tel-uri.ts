import { allInEscaped, isDigit, isHex, PARAMCHAR } from '../syntax/charset.ts';
import { SipParseError } from '../syntax/errors.ts';
import { type Param, Params } from '../syntax/params.ts';

function invalid(uri: string, what: string): never {
  throw new SipParseError('INVALID_URI', `invalid TEL URI "${uri.slice(0, 80)}": ${what}`);
}

/** visual-separator = "-" / "." / "(" / ")" (RFC 3966 §3) */
const isVisualSeparator = (c: number): boolean => c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29;

/** Remove visual separators: the form numbers are compared and routed in. */
export function stripVisualSeparators(number: string): string {
  let out = '';
  for (let i = 0; i < number.length; i++) if (!isVisualSeparator(number.charCodeAt(i))) out += number[i];
  return out;
}

/**
 * A TEL URI (RFC 3966): a global number (`tel:+1-201-555-0123`) or a local number with a mandatory
 * phone-context (`tel:7042;phone-context=example.com`).
 */
export class TelUri {
  readonly kind = 'tel' as const;
  readonly scheme = 'tel' as const;
  /** The number as written, visual separators included (`+1-201-555-0123`). */
  number: string;
  params: Params;

  constructor(number: string, params: Params | Param[] = []) {
    this.number = number;
    this.params = params instanceof Params ? params : new Params(params);
  }

  get isGlobal(): boolean {
    return this.number.charCodeAt(0) === 0x2b;
  }

  /** The number without visual separators (`+12015550123`). */
  get normalizedNumber(): string {
    return stripVisualSeparators(this.number);
  }

  get phoneContext(): string | undefined {
    const v = this.params.get('phone-context');
    return typeof v === 'string' ? v : undefined;
  }

  clone(): TelUri {
    return new TelUri(this.number, this.params.clone());
  }

  toString(): string {
    return `tel:${this.number}${this.params.toString(';')}`;
  }
}

/** pname = 1*( alphanum / "-" ) */
function isPnameChar(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
}

/** Parse the text after `tel:`. */
export function parseTelUriBody(body: string, whole: string): TelUri {
  const semi = body.indexOf(';');
  const number = semi >= 0 ? body.slice(0, semi) : body;
  if (number.length === 0) invalid(whole, 'missing number');
  let digits = 0;
  if (number.charCodeAt(0) === 0x2b) {
    // global-number-digits = "+" *phonedigit DIGIT *phonedigit
    for (let i = 1; i < number.length; i++) {
      const c = number.charCodeAt(i);
      if (isDigit(c)) digits++;
      else if (!isVisualSeparator(c)) invalid(whole, `bad character "${number[i]}" in global number`);
    }
  } else {
    // local-number-digits = *phonedigit-hex (HEXDIG / "*" / "#") *phonedigit-hex
    for (let i = 0; i < number.length; i++) {
      const c = number.charCodeAt(i);
      if (isHex(c) || c === 0x2a || c === 0x23) digits++;
      else if (!isVisualSeparator(c)) invalid(whole, `bad character "${number[i]}" in local number`);
    }
  }
  if (digits === 0) invalid(whole, 'number has no digits');

  const params: Param[] = [];
  if (semi >= 0) {
    for (const part of body.slice(semi + 1).split(';')) {
      const eq = part.indexOf('=');
      const name = eq >= 0 ? part.slice(0, eq) : part;
      if (name.length === 0) invalid(whole, 'empty parameter');
      for (let i = 0; i < name.length; i++) {
        if (!isPnameChar(name.charCodeAt(i))) invalid(whole, `bad parameter name "${name}"`);
      }
      const value = eq >= 0 ? part.slice(eq + 1) : null;
      if (value !== null && !allInEscaped(value, PARAMCHAR)) invalid(whole, `bad value for "${name}"`);
      params.push({ name, value });
    }
  }
  const uri = new TelUri(number, params);
  if (!uri.isGlobal && uri.phoneContext === undefined) invalid(whole, 'local number without phone-context');
  return uri;
}

/** RFC 3966 §4: equal numbers (separators ignored), and the same parameters with equal values. */
export function telUriEquals(a: TelUri, b: TelUri): boolean {
  if (a.normalizedNumber.toLowerCase() !== b.normalizedNumber.toLowerCase()) return false;
  if (a.params.size !== b.params.size) return false;
  for (const p of a.params.list) {
    const other = b.params.getRaw(p.name);
    if (other === undefined) return false;
    if (p.value === null || other === null) {
      if (p.value !== other) return false;
      continue;
    }
    const name = p.name.toLowerCase();
    const va = name === 'phone-context' ? stripVisualSeparators(p.value) : p.value;
    const vb = name === 'phone-context' ? stripVisualSeparators(other) : other;
    if (va.toLowerCase() !== vb.toLowerCase()) return false;
  }
  return true;
}
