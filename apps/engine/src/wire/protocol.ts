import { randomUUID } from 'node:crypto';

/**
 * The payloads of the drachtio wire protocol (inside a frame, see frame-decoder.ts).
 *
 * App -> engine: `msgId|type|token|token...` optionally followed by CRLF and a SIP message.
 * Engine -> app: `uuid|response|msgId|OK|...`, `uuid|sip|<meta>|txnId|dialogId|...` + CRLF + SIP,
 * `uuid|cdr:<kind>|source|time[|role-or-reason]` + CRLF + SIP.
 * Tokens are separated by `|` and empty tokens are significant (an empty transaction id means "none").
 */

export const CRLF = '\r\n';

/** A message received from an app, split into its leader tokens and the SIP text that follows, if any. */
export interface AppMessage {
  msgId: string;
  type: string;
  /** Tokens after the type. */
  args: string[];
  /** The SIP message after the first CRLF ('' when there is none). */
  sip: string;
}

export class AppMessageError extends Error {
  constructor(
    message: string,
    readonly msgId: string | undefined,
  ) {
    super(message);
    this.name = 'AppMessageError';
  }
}

export function parseAppMessage(payload: string): AppMessage {
  const crlf = payload.indexOf(CRLF);
  const leader = crlf < 0 ? payload : payload.slice(0, crlf);
  const sip = crlf < 0 ? '' : payload.slice(crlf + CRLF.length);
  const tokens = leader.split('|');
  const msgId = tokens[0] ?? '';
  if (msgId === '' || tokens.length < 2 || tokens[1] === '') {
    throw new AppMessageError('invalid message format: expected msgId|type', msgId || undefined);
  }
  return { msgId, type: tokens[1]!, args: tokens.slice(2), sip };
}

/** Two digits; module level, as `wireTime` runs for every message. */
function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The last time formatted and its text: messages of the same millisecond share it (no Date, no strings). */
let lastMs = -1;
let lastText = '';

/** `HH:MM:SS.uuuuuu` in UTC, the timestamp format of the `sip` event and `Msg sent:` replies. */
export function wireTime(date?: Date): string {
  const ms = date === undefined ? Date.now() : date.getTime();
  if (ms === lastMs) return lastText;
  const d = date ?? new Date(ms);
  lastText =
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.` +
    `${String(d.getUTCMilliseconds() * 1000).padStart(6, '0')}`;
  lastMs = ms;
  return lastText;
}

/** Replies to an app request: `uuid|response|msgId|OK[|data]` or `...|NO|reason` / `...|NOK|reason`. */
export function responseMessage(msgId: string, status: 'OK' | 'NO' | 'NOK', data?: string): string {
  return `${randomUUID()}|response|${msgId}|${status}${data === undefined ? '' : `|${data}`}`;
}

/** Where a SIP message came from or went to, as the app sees it in `sip` events and `Msg sent:` replies. */
export interface SipMessageMeta {
  source: 'network' | 'application';
  /** Size of the SIP message in bytes. */
  bytes: number;
  protocol: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  /** Remote address (network) or the local address it was sent from (application). */
  address: string;
  port: number;
  time?: Date;
}

function metaTokens(meta: SipMessageMeta): string {
  return `${meta.source}|${meta.bytes}|${meta.protocol}|${meta.address}|${meta.port}|${wireTime(meta.time)}`;
}

/**
 * The reply to an app's `sip` message once the engine has sent it:
 * `OK|application|bytes|proto|addr|port|time|txnId|Msg sent:|` + CRLF + the SIP as sent, and for responses
 * and in-dialog requests `...|txnId|dialogId||Msg sent:|`. drachtio-srf reads the transaction id at token 7
 * (counting from OK) and, for responses, the dialog id at token 8 (it keys PRACK/ACK notifications on it).
 */
export function msgSentReply(
  msgId: string,
  meta: SipMessageMeta,
  txnId: string,
  dialogId: string | undefined,
  sipAsSent: string,
): string {
  const dialog = dialogId === undefined ? '' : `${dialogId}||`;
  return responseMessage(msgId, 'OK', `${metaTokens(meta)}|${txnId}|${dialog}Msg sent:|${CRLF}${sipAsSent}`);
}

/**
 * A SIP message handed to an app: `uuid|sip|<meta>|txnId|dialogId|[receivedOnHost|port|]` + CRLF + SIP.
 * drachtio-srf needs more than nine tokens to act on it, hence the trailing separator.
 */
export function sipEventMessage(
  meta: SipMessageMeta,
  txnId: string,
  dialogId: string,
  raw: string,
  receivedOn?: { host: string; port: number },
): string {
  const on = receivedOn === undefined ? '' : `${receivedOn.host}|${receivedOn.port}|`;
  return `${randomUUID()}|sip|${metaTokens(meta)}|${txnId}|${dialogId}|${on}${CRLF}${raw}`;
}

export type CdrEvent =
  | { kind: 'attempt'; source: 'network' | 'application' }
  | { kind: 'start'; source: 'network' | 'application'; role: 'uac' | 'uas' | 'proxy-uac' | 'proxy-uas' }
  | { kind: 'stop'; source: 'network' | 'application'; reason: string };

/** `uuid|cdr:attempt|source|time`, `...|cdr:start|source|time|role`, `...|cdr:stop|source|time|reason`. */
export function cdrEventMessage(event: CdrEvent, raw: string, time?: Date): string {
  const extra = event.kind === 'start' ? `|${event.role}` : event.kind === 'stop' ? `|${event.reason}` : '';
  return `${randomUUID()}|cdr:${event.kind}|${event.source}|${wireTime(time)}${extra}${CRLF}${raw}`;
}

/**
 * One branch's final response during a `proxy` operation: `OK|<meta>|||continue` + CRLF + the response
 * (drachtio-srf keeps the request pending while token 12 is `continue`).
 */
export function proxyBranchReply(msgId: string, meta: SipMessageMeta, raw: string): string {
  return responseMessage(msgId, 'OK', `${metaTokens(meta)}|||continue${CRLF}${raw}`);
}
