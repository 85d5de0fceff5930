import {
  createResponse,
  generateCallId,
  generateTag,
  headerKey,
  type NameAddr,
  parseContact,
  parseNameAddr,
  parseUri,
  type SipRequest,
  SipRequest as SipRequestClass,
  type SipResponse,
} from '@switchboard/sip';
import { AppSipError, type AppSipText } from '../wire/app-sip.ts';
import type { AppDialog } from './app-dialogs.ts';
import type { StackListener } from './sip-stack.ts';

/**
 * Turns the partial SIP messages apps send into complete ones, the way drachtio-server completes them:
 * the engine owns Via, the dialog headers, CSeq, Contact, the route set and Content-Length; the app owns the
 * rest.
 */

/** The headers and body of an app's message: all the completing functions read. */
type AppSipParts = Pick<AppSipText, 'headers' | 'body'>;

/** Headers an app never sets itself: the engine or the transport layer writes them. */
const ENGINE_OWNED = new Set(['via', 'route', 'record-route', 'rseq', 'content-length']);
/** In-dialog requests and responses: the dialog headers come from the dialog or the request. */
const DIALOG_HEADERS = new Set(['from', 'to', 'call-id', 'cseq']);

/** Headers of an app's request the engine sets itself from what the app gave (built once, not per message). */
const ENGINE_SETS_IN_REQUESTS = new Set([...DIALOG_HEADERS, 'max-forwards', 'contact']);
/** Headers of an app's response the engine sets itself. */
const ENGINE_SETS_IN_RESPONSES = new Set([...DIALOG_HEADERS, 'contact']);

/** Methods whose requests and 2xx carry a Contact (dialog-creating or target-refreshing). */
const NEEDS_CONTACT = new Set(['INVITE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'UPDATE']);

/**
 * Our Contact on a listener: `sip:host:port;transport=x`, a SIPS URI only in a dialog that is SIPS
 * (`secure`: the request's Request-URI is SIPS, RFC 3261 §12.1.1 and §8.1.1.8). A phone that called or
 * registered with a plain `sip:` URI over TLS gets `sip:...;transport=tls`, as sofia-sip (drachtio-server)
 * and Kamailio write it: phones without SIPS support (baresip) refuse a `sips:` Contact (RFC 5630 §3.1.2).
 */
export function contactFor(listener: StackListener, secure = false): string {
  const host = listener.advertisedAddress.includes(':')
    ? `[${listener.advertisedAddress}]`
    : listener.advertisedAddress;
  const scheme = secure && (listener.transport === 'tls' || listener.transport === 'wss') ? 'sips' : 'sip';
  const transport = listener.transport === 'udp' ? '' : `;transport=${listener.transport}`;
  return `<${scheme}:${host}:${listener.advertisedPort}${transport}>`;
}

/** Whether a Request-URI makes the dialog SIPS (RFC 3261 §12.1.1). */
export function isSipsUri(uri: SipRequest['uri']): boolean {
  return uri.kind === 'sip' && uri.scheme === 'sips';
}

const LOCALHOST = /localhost/i;

/** Replaces a `localhost` host in a From or Contact value with the listener's advertised address. */
function replaceLocalhost(value: string, listener: StackListener): string {
  if (!LOCALHOST.test(value)) return value;
  const host = listener.advertisedAddress.includes(':')
    ? `[${listener.advertisedAddress}]`
    : listener.advertisedAddress;
  return value
    .replace(/@localhost(:\d+)?/i, `@${host}:${listener.advertisedPort}`)
    .replace(/sip:localhost(:\d+)?/i, `sip:${host}:${listener.advertisedPort}`);
}

/**
 * An app's Contact as the engine sends it: `localhost` replaced, and every address in name-addr form
 * (`<sip:user@host:port>`), as sofia-sip (drachtio-server) always writes it; peers match on the brackets.
 * A value that does not parse goes out as the app wrote it.
 */
export function appContact(value: string, listener: StackListener | undefined): string {
  const replaced = listener ? replaceLocalhost(value, listener) : value;
  try {
    const contacts = parseContact(replaced);
    return contacts === '*' ? '*' : contacts.map((c) => c.toString()).join(', ');
  } catch {
    return replaced;
  }
}

function contentTypeFor(sip: AppSipParts, required: boolean): string | undefined {
  if (sip.body === '') return undefined;
  const given = findHeader(sip, 'content-type');
  if (given !== undefined) return given;
  if (sip.body.startsWith('v=0')) return 'application/sdp';
  if (required) throw new AppSipError('missing content-type');
  return undefined;
}

export function findHeader(sip: AppSipParts, name: string): string | undefined {
  const key = headerKey(name);
  return sip.headers.find(([n]) => headerKey(n) === key)?.[1];
}

function copyAppHeaders(target: SipRequest | SipResponse, sip: AppSipParts, skip: Set<string>): void {
  for (const [name, value] of sip.headers) {
    const key = headerKey(name);
    if (ENGINE_OWNED.has(key) || skip.has(key) || key === 'content-type') continue;
    target.appendHeader(name, value);
  }
}

function setBody(target: SipRequest | SipResponse, sip: AppSipParts, contentType: string | undefined): void {
  if (sip.body === '') target.setHeader('Content-Length', 0);
  else target.setBody(sip.body, contentType);
}

/** `METHOD uri SIP/2.0` */
export function parseRequestLine(sip: AppSipText): { method: string; uri: string } {
  const m = /^([A-Za-z]+) (\S+) SIP\/2\.0$/.exec(sip.startLine);
  if (!m) throw new AppSipError(`invalid request line: ${sip.startLine.slice(0, 80)}`);
  return { method: m[1]!.toUpperCase(), uri: m[2]! };
}

/** `SIP/2.0 code reason` */
export function parseStatusLine(sip: AppSipText): { status: number; reason: string } {
  const m = /^SIP\/2\.0 (\d{3})(?: (.*))?$/.exec(sip.startLine);
  if (!m) throw new AppSipError(`invalid status line: ${sip.startLine.slice(0, 80)}`);
  const status = Number(m[1]);
  if (status < 100 || status > 699) throw new AppSipError(`invalid status code ${status}`);
  return { status, reason: m[2] ?? '' };
}

/** A new request outside any dialog (RFC 3261 §8.1.1), completed from what the app gave. */
export function buildNewRequest(sip: AppSipText, listener: StackListener): SipRequest {
  const { method, uri } = parseRequestLine(sip);
  const request = new SipRequestClass({ method, uri: parseUri(uri) });
  const from = findHeader(sip, 'from');
  const fromAddr = parseNameAddr(from ? replaceLocalhost(from, listener) : contactFor(listener), 'From');
  if (fromAddr.tag === undefined) fromAddr.tag = generateTag();
  request.setHeader('From', fromAddr.toString());
  const to = findHeader(sip, 'to');
  request.setHeader('To', to ? parseNameAddr(to, 'To').toString() : `<${uri}>`);
  request.setHeader('Call-ID', findHeader(sip, 'call-id') ?? generateCallId());
  const cseq = findHeader(sip, 'cseq');
  const cseqNumber = cseq ? Number.parseInt(cseq, 10) : 1;
  if (!Number.isInteger(cseqNumber) || cseqNumber < 0) throw new AppSipError(`invalid CSeq ${cseq}`);
  request.setHeader('CSeq', `${cseqNumber} ${method}`);
  request.setHeader('Max-Forwards', findHeader(sip, 'max-forwards') ?? 70);
  const contact = findHeader(sip, 'contact');
  if (contact !== undefined) request.setHeader('Contact', appContact(contact, listener));
  else if (method === 'INVITE' || method === 'SUBSCRIBE')
    request.setHeader('Contact', contactFor(listener, isSipsUri(request.uri)));
  copyAppHeaders(request, sip, ENGINE_SETS_IN_REQUESTS);
  // RFC 3261 §8.1.1.1: a new request may carry a preloaded route set, e.g. through the cluster node
  // that holds the callee's flow; the stack sends it to the first Route (§8.1.2).
  for (const [name, value] of sip.headers)
    if (headerKey(name) === 'route') request.appendHeader('Route', value);
  setBody(request, sip, contentTypeFor(sip, true));
  return request;
}

/** A request inside a dialog (RFC 3261 §12.2.1.1): URI, route set, tags and CSeq from the dialog. */
export function buildInDialogRequest(
  sip: AppSipText,
  dialog: AppDialog,
  listener?: StackListener,
): SipRequest {
  const { method } = parseRequestLine(sip);
  const { requestUri, routes } = dialog.routing();
  const request = new SipRequestClass({ method, uri: requestUri });
  request.setHeader('From', withTag(dialog.localUri, dialog.id.localTag));
  request.setHeader('To', withTag(dialog.remoteUri, dialog.id.remoteTag));
  request.setHeader('Call-ID', dialog.id.callId);
  request.setHeader('CSeq', `${dialog.nextSeq(method)} ${method}`);
  request.setHeader('Max-Forwards', findHeader(sip, 'max-forwards') ?? 70);
  if (routes.length > 0) request.setHeader('Route', routes);
  const contact = findHeader(sip, 'contact');
  if (contact !== undefined) request.setHeader('Contact', appContact(contact, listener));
  else if (NEEDS_CONTACT.has(method)) request.setHeader('Contact', dialog.localContact ?? '');
  copyAppHeaders(request, sip, ENGINE_SETS_IN_REQUESTS);
  setBody(request, sip, contentTypeFor(sip, true));
  return request;
}

function withTag(address: NameAddr, tag: string): string {
  const tagged = address.clone();
  tagged.tag = tag;
  return tagged.toString();
}

/**
 * A response to an incoming request (RFC 3261 §8.2.6): Via, From, Call-ID, CSeq copied from the request,
 * To with our tag, Record-Route copied for dialog-creating responses (§12.1.1), Contact added for INVITE
 * and SUBSCRIBE, the app's other headers and body.
 */
export function buildResponse(
  sip: AppSipText,
  request: SipRequest,
  localTag: string,
  listener: StackListener | undefined,
): SipResponse {
  const { status, reason } = parseStatusLine(sip);
  return completeResponse(status, reason, sip, request, localTag, listener);
}

/** `buildResponse` for a status already known (an answer made in the engine's process: no text to read). */
export function completeResponse(
  status: number,
  reason: string,
  sip: AppSipParts,
  request: SipRequest,
  localTag: string,
  listener: StackListener | undefined,
): SipResponse {
  const response = createResponse(
    request,
    status,
    reason ? { reason, toTag: localTag } : { toTag: localTag },
  );
  response.removeHeader('content-length');
  const dialogCreating =
    (request.method === 'INVITE' || request.method === 'SUBSCRIBE') && status > 100 && status < 300;
  if (dialogCreating && request.toTag === undefined) {
    const recordRoute = request.getHeaders('record-route');
    if (recordRoute.length > 0) response.setHeader('Record-Route', recordRoute);
  }
  const contact = findHeader(sip, 'contact');
  // A registrar's answer lists the bindings (RFC 3261 §10.3 step 8): the devices' addresses, given as
  // they are, not an address of ours to complete.
  if (contact !== undefined)
    response.setHeader('Contact', request.method === 'REGISTER' ? contact : appContact(contact, listener));
  else if (dialogCreating && listener)
    response.setHeader('Contact', contactFor(listener, isSipsUri(request.uri)));
  copyAppHeaders(response, sip, ENGINE_SETS_IN_RESPONSES);
  setBody(response, sip, contentTypeFor(sip, false));
  return response;
}

/** The tag an app put on the To of its response, if any (drachtio lets the app choose the local tag). */
export function appToTag(sip: AppSipText): string | undefined {
  const to = findHeader(sip, 'to');
  return to ? /;\s*tag=([^;>\s]+)/i.exec(to)?.[1] : undefined;
}
