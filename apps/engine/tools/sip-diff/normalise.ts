import {
  canonicalHeaderName,
  headerKey,
  type SipMessage,
  SipRequest,
  tryParseMessage,
} from '@switchboard/sip';
import type { ScenarioCapture } from './capture.ts';

/**
 * Turns one scenario's captured messages into a form in which two servers' runs of the same scenario can be
 * compared: everything that is random or local by nature (addresses and ports, tags, branches, Call-IDs,
 * CSeq starting points, Contact user parts, nonces, Server/User-Agent, dates, SDP session ids) is replaced
 * by a placeholder, and header order is kept only where it carries meaning (RFC 3261 §7.3.1: fields of the
 * same name, e.g. Via and Route, keep their relative order; different names may be reordered freely).
 */

export interface NormalisedMessage {
  /** The dialog or transaction family it belongs to: `call-N` by order of the Call-ID's first appearance. */
  flow: string;
  /** `sender -> receiver`, each named by its role or by order of appearance. */
  direction: string;
  /** What aligns messages of the two runs: direction and method, or status and CSeq method. */
  key: string;
  startLine: string;
  /** Header name (canonical) -> normalised values in order; Content-Length is left out (the body is compared). */
  headers: Map<string, string[]>;
  body: string;
}

export interface NormalisedScenario {
  scenario: string;
  messages: NormalisedMessage[];
  /** Exact repeats of a message already captured (retransmissions), left out of `messages`. */
  retransmissions: number;
  /** Captured messages the parser refuses (not compared): who sent them, their first line, and why. */
  unparsable: Array<{ direction: string; startLine: string; error: string }>;
}

/** Headers whose values are comma-separated token sets: order and field splitting carry no meaning. */
const TOKEN_SETS = new Set([
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'allow-events',
]);
/** Headers whose values are lists of entries kept in order, however they are split into fields. */
const ORDERED_LISTS = new Set(['via', 'route', 'record-route', 'path', 'service-route']);
/** Headers whose value is a product name or a time: only whether they are present is compared. */
const PRESENCE_ONLY = new Set(['server', 'user-agent', 'date', 'timestamp']);
const AUTH_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
]);
const NAME_ADDR_HEADERS = new Set([
  'from',
  'to',
  'contact',
  'route',
  'record-route',
  'path',
  'refer-to',
  'referred-by',
  'p-asserted-identity',
]);

export function normaliseScenario(capture: ScenarioCapture): NormalisedScenario {
  const ordered = [...capture.messages].sort((a, b) => a.time - b.time);
  const names = endpointNames(capture, ordered);
  const ports = portNames(names);
  const callIds = new Map<string, string>();
  const cseqBase = new Map<string, number>();
  const seen = new Set<string>();
  const messages: NormalisedMessage[] = [];
  let retransmissions = 0;
  const unparsable: NormalisedScenario['unparsable'] = [];
  for (const wire of ordered) {
    const identity = `${wire.src}>${wire.dst}>${wire.raw}`;
    if (seen.has(identity)) {
      retransmissions++;
      continue;
    }
    seen.add(identity);
    const parsed = tryParseMessage(Buffer.from(wire.raw, 'latin1'));
    if (!parsed.ok) {
      unparsable.push({
        direction: `${names.get(wire.src)} -> ${names.get(wire.dst)}`,
        startLine: replaceEndpoints(wire.raw.split('\r\n', 1)[0] ?? '', names, ports),
        error: replaceEndpoints(parsed.error.message, names, ports),
      });
      continue;
    }
    const message = parsed.message;
    const callId = message.getHeader('call-id') ?? '';
    if (!callIds.has(callId)) callIds.set(callId, `call-${callIds.size + 1}`);
    const flow = callIds.get(callId) as string;
    const text = (s: string) => replaceEndpoints(replaceCallIds(s, callIds), names, ports);
    const direction = `${names.get(wire.src)} -> ${names.get(wire.dst)}`;
    const cseq = message.getHeader('cseq') ?? '';
    const cseqMethod = cseq.split(/\s+/)[1] ?? '';
    const isRequest = message instanceof SipRequest;
    const startLine = isRequest
      ? `${message.method} ${text(message.uri.toString())}`
      : `${message.startLine().split(' ').slice(1).join(' ')}`;
    const key = isRequest
      ? `${direction} ${message.method}`
      : `${direction} ${message.status} (${cseqMethod})`;
    const headers = normaliseHeaders(message, text, relativeCseq(message, flow, cseqBase));
    messages.push({
      flow,
      direction,
      key,
      startLine,
      headers,
      body: normaliseBody(text(message.body.toString('latin1'))),
    });
  }
  return { scenario: capture.scenario, messages, retransmissions, unparsable };
}

/**
 * Role names for known endpoints, `peerN` for the others in order of first appearance. A connection opened
 * from an ephemeral port carries its owner's listening address in the top Via of its requests: such an
 * endpoint is named after that owner, so that a TCP leg is told apart by who opened it, not by its port.
 */
function endpointNames(capture: ScenarioCapture, ordered: ScenarioCapture['messages']): Map<string, string> {
  const names = new Map<string, string>(Object.entries(capture.roles));
  for (const m of ordered) {
    if (names.has(m.src) || !/^[A-Z]+ /.test(m.raw)) continue;
    const sentBy = /^(?:Via|v)[ \t]*:[ \t]*SIP\/2\.0\/[A-Z]+[ \t]+([^;,\s]+)/im.exec(m.raw)?.[1];
    const owner = sentBy ? capture.roles[sentBy] : undefined;
    if (owner) names.set(m.src, owner);
  }
  let peers = 0;
  for (const m of ordered) {
    for (const endpoint of [m.src, m.dst]) {
      if (!names.has(endpoint)) names.set(endpoint, `peer${++peers}`);
    }
  }
  return names;
}

/**
 * Placeholders are written `{name}`: angle brackets would be taken for a name-addr's. An address with the port
 * of a named endpoint is that endpoint even when another address is advertised (a server behind NAT).
 */
function replaceEndpoints(s: string, names: Map<string, string>, ports: Map<string, string>): string {
  let out = s;
  // longest first, so that 127.0.0.1:5060 is not taken for a prefix of 127.0.0.1:50601
  for (const endpoint of [...names.keys()].sort((a, b) => b.length - a.length)) {
    out = out.split(endpoint).join(`{${names.get(endpoint)}}`);
  }
  out = out.replace(/\b((?:\d{1,3}\.){3}\d{1,3}):(\d{1,5})\b/g, (m, _ip: string, port: string) => {
    const name = ports.get(port);
    return name ? `{${name}}` : m;
  });
  return out.replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '{ip}');
}

/** Port -> endpoint name, for ports only one named endpoint uses. */
function portNames(names: Map<string, string>): Map<string, string> {
  const byPort = new Map<string, Set<string>>();
  for (const [endpoint, name] of names) {
    const port = endpoint.slice(endpoint.lastIndexOf(':') + 1);
    byPort.set(port, (byPort.get(port) ?? new Set()).add(name));
  }
  const out = new Map<string, string>();
  for (const [port, set] of byPort) if (set.size === 1) out.set(port, [...set][0] as string);
  return out;
}

/** Every Call-ID of the scenario, wherever it appears (Replaces, Refer-To), becomes `{call-id}`. */
function replaceCallIds(s: string, callIds: Map<string, string>): string {
  let out = s;
  for (const callId of callIds.keys()) if (callId.length > 0) out = out.split(callId).join('{call-id}');
  return out;
}

/** CSeq as an offset from the first number the same sender used in the flow (starting points are random). */
function relativeCseq(message: SipMessage, flow: string, bases: Map<string, number>): string {
  const [num, method] = (message.getHeader('cseq') ?? '').trim().split(/\s+/);
  const n = Number(num);
  // a response carries the CSeq of the request it answers: the From side's numbering
  const sender = message.getHeader('from');
  const key = `${flow} ${(sender ?? '').replace(/;\s*tag=[^;>]*/i, '')}`;
  if (!bases.has(key)) bases.set(key, n);
  return `+${n - (bases.get(key) as number)} ${method ?? ''}`;
}

function normaliseHeaders(
  message: SipMessage,
  text: (s: string) => string,
  cseq: string,
): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const field of message.headers) {
    const key = headerKey(field.name);
    if (key === 'content-length') continue;
    const list = byKey.get(key) ?? [];
    list.push(field.value);
    byKey.set(key, list);
  }
  const out = new Map<string, string[]>();
  for (const key of [...byKey.keys()].sort()) {
    const values = byKey.get(key) as string[];
    out.set(canonicalHeaderName(key), normaliseValues(key, values, text, cseq));
  }
  return out;
}

function normaliseValues(key: string, values: string[], text: (s: string) => string, cseq: string): string[] {
  if (key === 'cseq') return [cseq];
  if (key === 'call-id') return values.map(text);
  // RFC 3262 §3: the first RSeq is random; RAck repeats it and the INVITE's CSeq number
  if (key === 'rseq') return ['{rseq}'];
  if (key === 'rack') return values.map((v) => v.replace(/^\s*\d+\s+\d+/, '{rseq} {cseq}'));
  if (PRESENCE_ONLY.has(key)) return ['{present}'];
  if (TOKEN_SETS.has(key)) {
    const tokens = new Set(
      values.flatMap((v) => v.split(',').map((t) => t.trim())).filter((t) => t.length > 0),
    );
    return [[...tokens].sort().join(', ')];
  }
  const entries = ORDERED_LISTS.has(key) || key === 'contact' ? values.flatMap(splitTopLevel) : values;
  return entries.map((v) => normaliseValue(key, text(v.trim())));
}

function normaliseValue(key: string, value: string): string {
  if (key === 'via') return normaliseVia(value);
  if (AUTH_HEADERS.has(key) || /^Digest\s/i.test(value)) return normaliseAuth(value);
  // tags and digest values also turn up elsewhere: echoed by test scenarios, escaped in Replaces
  const v = value
    .replace(/;\s*tag=[^;>,\s]+/gi, ';tag={tag}')
    .replace(/(from-tag|to-tag)(=|%3D)[^;%&>\s]+/gi, '$1$2{tag}')
    .replace(/\b(nonce|cnonce|response|opaque)=("[^"]*"|[^,\s]*)/gi, '$1={v}');
  if (NAME_ADDR_HEADERS.has(key)) {
    const named = key === 'contact' ? v.replace(/(sips?:)[^@<>;:"\s]+@/i, '$1{user}@') : v;
    return sortParams(nameAddr(named));
  }
  return v;
}

/**
 * One spelling of a name-addr: an addr-spec without brackets gets them (its parameters are header
 * parameters, RFC 3261 §20.10), and a display name is written unquoted when it is tokens only and without
 * the optional space before `<`.
 */
function nameAddr(value: string): string {
  const open = value.indexOf('<');
  if (open < 0) {
    if (value.trim() === '*') return value.trim();
    const [uri, ...params] = value.trim().split(';');
    return `<${uri}>${params.map((p) => `;${p}`).join('')}`;
  }
  let display = value.slice(0, open).trim();
  const quoted = /^"(.*)"$/.exec(display);
  if (quoted && /^[\w.!%*+`'~ -]*$/.test(quoted[1] as string)) display = quoted[1] as string;
  return `${display.replace(/\s+/g, ' ')}${value.slice(open)}`;
}

/** `Digest a=1,b="2"`: parameters sorted, one space after each comma, per-request values replaced. */
function normaliseAuth(value: string): string {
  const space = value.indexOf(' ');
  if (space < 0) return value;
  const params = splitTopLevel(value.slice(space + 1)).map((p) =>
    p.replace(/^(nonce|cnonce|response|opaque|nc)=("[^"]*"|[^,\s]*)$/i, '$1={v}'),
  );
  return `${value.slice(0, space)} ${params.sort().join(', ')}`;
}

/** `SIP/2.0/UDP <a>;branch=z9hG4bK...;rport=1234` with a placeholder branch, rport and sorted parameters. */
function normaliseVia(value: string): string {
  const [sentBy, ...params] = value.split(';').map((p) => p.trim());
  const normal = params.map((p) => {
    const [name, v] = p.split('=', 2) as [string, string | undefined];
    const lower = name.toLowerCase();
    if (lower === 'branch' && v !== undefined)
      return v.startsWith('z9hG4bK') ? 'branch=z9hG4bK{branch}' : 'branch={branch}';
    if (lower === 'rport' && v !== undefined) return 'rport={port}';
    return p;
  });
  return [sentBy, ...normal.sort()].join(';');
}

/** Parameters of a name-addr (inside the brackets and after them) in sorted order: their order means nothing. */
function sortParams(value: string): string {
  const open = value.indexOf('<');
  const close = value.indexOf('>', open);
  if (open < 0 || close < 0) {
    const [uri, ...params] = value.split(';');
    return [uri, ...params.sort()].join(';');
  }
  const inner = value.slice(open + 1, close);
  const [uriAndParams, headers] = inner.split('?', 2) as [string, string | undefined];
  const [uri, ...uriParams] = uriAndParams.split(';');
  const sortedInner = [uri, ...uriParams.sort()].join(';') + (headers !== undefined ? `?${headers}` : '');
  const after = value
    .slice(close + 1)
    .split(';')
    .filter((p) => p.trim().length > 0)
    .map((p) => p.trim());
  return `${value.slice(0, open).trim()}<${sortedInner}>${after
    .sort()
    .map((p) => `;${p}`)
    .join('')}`.trim();
}

/** Splits a header value at commas that are outside quotes and angle brackets. */
export function splitTopLevel(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth--;
    else if (!quoted && depth === 0 && ch === ',') {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}

/** SDP: session id and version of the o= line and the media ports are the far ends' own numbers. */
function normaliseBody(body: string): string {
  return body
    .replace(/^o=(\S+) \d+ \d+ /m, 'o=$1 {id} {version} ')
    .replace(/^m=(\w+) \d+ /gm, 'm=$1 {port} ');
}
