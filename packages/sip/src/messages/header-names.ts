import { isToken } from '../syntax/charset.ts';

/**
 * Header names: compact forms (RFC 3261 §7.3.3 and later RFCs), canonical spelling for headers this
 * package writes, and which headers carry comma-separated lists or must appear at most once.
 * All lookups use the lower-case long form as key ("call-id", "via", ...).
 */

/** Compact form (lower case) -> long form key. */
const COMPACT: Record<string, string> = {
  a: 'accept-contact', // RFC 3841
  b: 'referred-by', // RFC 3892
  c: 'content-type',
  d: 'request-disposition', // RFC 3841
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact', // RFC 3841
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  o: 'event', // RFC 6665
  r: 'refer-to', // RFC 3515
  s: 'subject',
  t: 'to',
  u: 'allow-events', // RFC 6665
  v: 'via',
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 8224
};

/** Canonical spelling, for headers whose conventional capitalisation is not plain Title-Case. */
const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  rseq: 'RSeq',
  rack: 'RAck',
  'min-se': 'Min-SE',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'mime-version': 'MIME-Version',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/** Headers whose value is a comma-separated list and that may be repeated (RFC 3261 §7.3.1). */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'path',
  'service-route',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'allow',
  'allow-events',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'diversion',
  'history-info',
  'reason',
  'p-asserted-identity',
  'p-preferred-identity',
  'accept-contact',
  'reject-contact',
  'request-disposition',
  'security-client',
  'security-server',
  'security-verify',
]);

/** Headers that must not appear more than once (RFC 3261 §20 and extensions). */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
  'expires',
  'min-expires',
  'rseq',
  'rack',
  'session-expires',
  'min-se',
  'date',
  'timestamp',
  'event',
  'refer-to',
  'referred-by',
  'replaces',
  'retry-after',
  'mime-version',
  'content-disposition',
]);

/** Memo of name-as-written -> key; bounded so that hostile random names cannot grow it. */
const KEY_CACHE = new Map<string, string>();
const KEY_CACHE_MAX = 2048;

/**
 * Key of a header name read from the wire, or undefined when the name is not a token. Names seen before
 * are answered from the memo (only valid names are memoised).
 */
export function wireHeaderKey(name: string): string | undefined {
  const cached = KEY_CACHE.get(name);
  if (cached !== undefined) return cached;
  return isToken(name) ? headerKey(name) : undefined;
}

/**
 * The headers every parse checks (mandatory or single-valued ones every element reads), in the order of
 * the counters the parser keeps for them.
 */
export const ESSENTIAL_HEADERS: readonly string[] = [
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'max-forwards',
  'content-length',
  'content-type',
];

/** A header name as written on the wire, with its key. */
export interface WireHeaderName {
  name: string;
  key: string;
  /** Index of the key in ESSENTIAL_HEADERS, -1 for other headers. */
  essential: number;
}

/**
 * Names met on the wire, bucketed by length and first character: a header line is matched in place
 * against a few candidates, without slicing its name out and hashing it. Only valid names are kept,
 * and at most KEY_CACHE_MAX of them, so that hostile random names cannot grow it.
 */
const NAME_BUCKETS: Array<WireHeaderName[] | undefined> = new Array(64 * 128).fill(undefined);
let nameCount = 0;

/**
 * The name written in s[start, end) and its key, or undefined when it is not a token. The returned
 * object is shared between messages: do not modify it.
 */
export function wireHeaderNameAt(s: string, start: number, end: number): WireHeaderName | undefined {
  const length = end - start;
  const first = s.charCodeAt(start);
  const slot = length < 64 && first < 128 ? (length << 7) | first : -1;
  const bucket = slot >= 0 ? NAME_BUCKETS[slot] : undefined;
  if (bucket !== undefined) {
    for (let b = 0; b < bucket.length; b++) {
      const candidate = bucket[b] as WireHeaderName;
      // same length and first character by construction of the bucket
      if (s.startsWith(candidate.name, start)) return candidate;
    }
  }
  const name = s.slice(start, end);
  const key = wireHeaderKey(name);
  if (key === undefined) return undefined;
  const essential = ESSENTIAL_HEADERS.indexOf(key);
  if (slot < 0 || nameCount >= KEY_CACHE_MAX) return { name, key, essential };
  // a fresh copy, so that the memo holds neither a view into a whole received message nor a slow string
  const found = { name: Buffer.from(name, 'latin1').toString('latin1'), key, essential };
  nameCount++;
  if (bucket === undefined) NAME_BUCKETS[slot] = [found];
  else bucket.push(found);
  return found;
}

/** Lower-case long-form key of a header name as written (compact forms expanded). */
export function headerKey(name: string): string {
  const cached = KEY_CACHE.get(name);
  if (cached !== undefined) return cached;
  let key = name.toLowerCase();
  if (key.length === 1) key = COMPACT[key] ?? key;
  if (KEY_CACHE.size < KEY_CACHE_MAX) KEY_CACHE.set(name, key);
  return key;
}

/** Canonical spellings built so far, by key (bounded like KEY_CACHE): every field set in code needs one. */
const CANONICAL_CACHE = new Map<string, string>();

/** Conventional spelling of a header key ("call-id" -> "Call-ID", "max-forwards" -> "Max-Forwards"). */
export function canonicalHeaderName(name: string): string {
  const key = headerKey(name);
  const special = CANONICAL[key];
  if (special) return special;
  const cached = CANONICAL_CACHE.get(key);
  if (cached !== undefined) return cached;
  const out = spellCanonical(key);
  if (CANONICAL_CACHE.size < KEY_CACHE_MAX) CANONICAL_CACHE.set(key, out);
  return out;
}

function spellCanonical(key: string): string {
  let out = '';
  let upper = true;
  for (let i = 0; i < key.length; i++) {
    const ch = key[i] as string;
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}
