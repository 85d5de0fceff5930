import { randomInt } from 'node:crypto';
import { detached } from '../messages/detached.ts';
import { SipRequest, type SipResponse } from '../messages/message.ts';
import type { NameAddr } from '../uri/name-addr.ts';
import type { SipUri } from '../uri/sip-uri.ts';
import type { Uri } from '../uri/uri.ts';

export type DialogState = 'early' | 'confirmed' | 'terminated';
export type DialogRole = 'uac' | 'uas';
/**
 * What created the dialog (RFC 5057 dialog usages): an INVITE (ends with BYE) or a subscription (SUBSCRIBE,
 * or REFER outside a dialog; ends with a terminating NOTIFY or on expiry, RFC 6665 §4.4).
 */
export type DialogUsage = 'invite' | 'subscription';

/** What the transaction user may choose when a dialog is created, instead of the defaults from the messages. */
export interface DialogOptions<T> {
  usage?: DialogUsage;
  /** The first local CSeq minus one (a UAS has none until it sends a request; default: random). */
  localSeq?: number;
  /** Our Contact, when the message that created the dialog does not show it. */
  localContact?: string;
  /** The remote target to use when the peer sent no Contact (a lenient UA; RFC 3261 requires one). */
  fallbackTarget?: Uri;
  /** The transaction user's own state for this dialog (the app owning it, timers, ...). */
  data?: T;
}

/** A dialog is identified by Call-ID, local tag and remote tag (RFC 3261 §12). */
export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

export function dialogKey(id: DialogId): string {
  return `${id.callId}\u0000${id.localTag}\u0000${id.remoteTag}`;
}

/** The dialog id a received request belongs to, seen from the receiver (UAS of that request). */
export function dialogIdOfRequest(request: SipRequest): DialogId | undefined {
  const localTag = request.toTag;
  const remoteTag = request.fromTag;
  if (!localTag || !remoteTag) return undefined;
  return { callId: request.callId, localTag, remoteTag };
}

/** The dialog id a received response belongs to, seen from the UAC that sent the request. */
export function dialogIdOfResponse(response: SipResponse): DialogId | undefined {
  const localTag = response.fromTag;
  const remoteTag = response.toTag;
  if (!localTag || !remoteTag) return undefined;
  return { callId: response.callId, localTag, remoteTag };
}

/** Methods that refresh the remote target (RFC 3261 §12.2, RFC 3311, RFC 6665). */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export interface InDialogRequestOptions {
  headers?: Array<[string, string | number]>;
  body?: Buffer | string;
  contentType?: string;
}

/** Outcome of checking a request received inside a dialog (§12.2.2). */
export type InDialogCheck = { ok: true } | { ok: false; status: 500; reason: string };

function firstContactUri(message: SipRequest | SipResponse): Uri | undefined {
  try {
    const contact = message.contact;
    return contact === '*' ? undefined : contact[0]?.uri.clone();
  } catch {
    return undefined;
  }
}

/**
 * Dialog state (RFC 3261 §12.1): ids, sequence numbers, local/remote URIs, remote target and route set,
 * with the rules to build requests inside it (§12.2.1.1) and to accept requests received in it (§12.2.2).
 */
export class Dialog<T = undefined> {
  state: DialogState;
  /** Changes only through DialogTable.retag (a forked 2xx with another To tag, §13.2.2.4). */
  id: DialogId;
  readonly role: DialogRole;
  readonly usage: DialogUsage;
  /** The CSeq number of the last INVITE sent in the dialog (or received, for its creator): its ACK's CSeq. */
  inviteSeq: number | undefined;
  readonly data: T;
  /** Local CSeq: the last one used (UAS dialogs start unset until the first request is sent). */
  localSeq: number | undefined;
  /** Remote CSeq: the last one received (unset until the first request arrives for a UAC dialog). */
  remoteSeq: number | undefined;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  remoteTarget: Uri;
  /** Route set in the order requests must carry it (already reversed for a UAC). */
  routeSet: NameAddr[];
  readonly secure: boolean;
  /** Our Contact, written in target-refresh requests we send. */
  localContact: string | undefined;

  private constructor(init: {
    state: DialogState;
    id: DialogId;
    role: DialogRole;
    localSeq: number | undefined;
    remoteSeq: number | undefined;
    localUri: NameAddr;
    remoteUri: NameAddr;
    remoteTarget: Uri;
    routeSet: NameAddr[];
    secure: boolean;
    localContact: string | undefined;
    usage: DialogUsage | undefined;
    inviteSeq: number | undefined;
    data: T;
  }) {
    this.state = init.state;
    // A dialog lives as long as its call: its ids must not keep the message they were read from alive.
    const { callId, localTag, remoteTag } = init.id;
    this.id = { callId: detached(callId), localTag: detached(localTag), remoteTag: detached(remoteTag) };
    this.role = init.role;
    this.usage = init.usage ?? 'invite';
    this.inviteSeq = init.inviteSeq;
    this.data = init.data;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.secure = init.secure;
    this.localContact = init.localContact;
  }

  get key(): string {
    return dialogKey(this.id);
  }

  /**
   * UAC side (§12.1.2): a dialog from the request we sent and a 1xx (early) or 2xx (confirmed) response
   * carrying a To tag. Route set = Record-Route of the response, reversed; remote target = its Contact.
   */
  static fromUac<T = undefined>(
    request: SipRequest,
    response: SipResponse,
    options: DialogOptions<T> = {},
  ): Dialog<T> {
    const id = dialogIdOfResponse(response);
    if (!id) throw new Error('a dialog needs a From tag and a To tag');
    if (response.status < 101 || response.status >= 300)
      throw new Error('only 101-299 responses create dialogs');
    const remoteTarget = firstContactUri(response) ?? options.fallbackTarget?.clone();
    if (!remoteTarget) throw new Error('the response has no Contact to use as remote target');
    return new Dialog<T>({
      ...fromOptions(options),
      state: response.status < 200 ? 'early' : 'confirmed',
      id,
      role: 'uac',
      inviteSeq: request.method === 'INVITE' ? request.cseq.seq : undefined,
      localSeq: options.localSeq ?? request.cseq.seq,
      remoteSeq: undefined,
      localUri: request.from.clone(),
      remoteUri: response.to.clone(),
      remoteTarget,
      routeSet: [...response.recordRoute].reverse().map((r) => r.clone()),
      secure: isSips(request.uri),
      localContact: options.localContact ?? request.getHeader('Contact'),
    });
  }

  /**
   * UAS side (§12.1.1): a dialog from the request received and the response we send with our To tag.
   * Route set = Record-Route of the request in order; remote target = the request's Contact.
   */
  static fromUas<T = undefined>(
    request: SipRequest,
    response: SipResponse,
    options: DialogOptions<T> = {},
  ): Dialog<T> {
    const localTag = response.toTag;
    const remoteTag = request.fromTag;
    if (!localTag || !remoteTag) throw new Error('a dialog needs a From tag and a To tag');
    const remoteTarget = firstContactUri(request) ?? options.fallbackTarget?.clone();
    if (!remoteTarget) throw new Error('the request has no Contact to use as remote target');
    return new Dialog<T>({
      ...fromOptions(options),
      state: response.status < 200 ? 'early' : 'confirmed',
      id: { callId: request.callId, localTag, remoteTag },
      role: 'uas',
      inviteSeq: request.method === 'INVITE' ? request.cseq.seq : undefined,
      localSeq: options.localSeq,
      remoteSeq: request.cseq.seq,
      localUri: response.to.clone(),
      remoteUri: request.from.clone(),
      remoteTarget,
      routeSet: request.recordRoute.map((r) => r.clone()),
      secure: isSips(request.uri),
      localContact: options.localContact ?? response.getHeader('Contact'),
    });
  }

  /**
   * A response to a request we sent in this dialog (or to the dialog-creating INVITE): a 2xx confirms an early
   * dialog and, per §13.2.2.4, recomputes the route set; a 2xx to a target refresh updates the remote target.
   */
  receiveResponse(response: SipResponse): void {
    if (this.state === 'terminated' || response.status < 101 || response.status >= 300) return;
    const method = response.cseq.method;
    if (this.state === 'early' && response.status >= 200 && method === 'INVITE') {
      this.state = 'confirmed';
      if (this.role === 'uac') this.routeSet = [...response.recordRoute].reverse().map((r) => r.clone());
    }
    if (TARGET_REFRESH.has(method)) {
      const target = firstContactUri(response);
      if (target) this.remoteTarget = target;
    }
  }

  /** The UAS confirms its early dialog when it sends a 2xx to the INVITE. */
  confirm(): void {
    if (this.state === 'early') this.state = 'confirmed';
  }

  /**
   * Checks a request received in this dialog (§12.2.2): a CSeq lower than the last one is out of order (500);
   * otherwise the remote sequence advances and a target refresh request updates the remote target.
   */
  receiveRequest(request: SipRequest): InDialogCheck {
    const method = request.method;
    // ACK and CANCEL reuse the INVITE's CSeq number and are not ordered against it.
    if (method !== 'ACK' && method !== 'CANCEL') {
      const seq = request.cseq.seq;
      if (this.remoteSeq !== undefined && seq < this.remoteSeq) {
        return { ok: false, status: 500, reason: 'CSeq out of order' };
      }
      this.remoteSeq = seq;
    }
    if (TARGET_REFRESH.has(method)) {
      const target = firstContactUri(request);
      if (target) this.remoteTarget = target;
    }
    return { ok: true };
  }

  /**
   * Builds a request inside the dialog (§12.2.1.1): To/From with tags, Call-ID, next local CSeq, and the
   * Request-URI/Route pair from the remote target and route set (loose, or strict-router compatibility).
   * The transaction layer adds the Via.
   */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    if (method === 'ACK' || method === 'CANCEL') {
      throw new Error(`${method} is built with createAck / the transaction layer, not createRequest`);
    }
    return this.build(method, this.nextSeq(method), options);
  }

  /**
   * The CSeq number of the next request we send in the dialog (§12.2.1.1): one more than the last, random to
   * start with; an ACK reuses its INVITE's (§13.2.2.4), and an INVITE is remembered for its ACK.
   */
  nextSeq(method: string): number {
    if (method === 'ACK') return this.inviteSeq ?? this.localSeq ?? 1;
    if (this.localSeq === undefined) this.localSeq = randomInt(1, 2 ** 16);
    else this.localSeq += 1;
    if (method === 'INVITE') this.inviteSeq = this.localSeq;
    return this.localSeq;
  }

  /** The ACK for a 2xx to the INVITE with this CSeq number (§13.2.2.4): same dialog routing, method ACK. */
  createAck(inviteSeq: number, options: InDialogRequestOptions = {}): SipRequest {
    return this.build('ACK', inviteSeq, options);
  }

  private build(method: string, seq: number, options: InDialogRequestOptions): SipRequest {
    const { requestUri, routes } = this.routing();
    const request = new SipRequest({ method, uri: requestUri });
    request.setHeader('Max-Forwards', 70);
    const from = this.localUri.clone();
    from.tag = this.id.localTag;
    const to = this.remoteUri.clone();
    to.tag = this.id.remoteTag;
    request.setHeader('From', from.toString());
    request.setHeader('To', to.toString());
    request.setHeader('Call-ID', this.id.callId);
    request.setHeader('CSeq', `${seq} ${method}`);
    for (const r of routes) request.appendHeader('Route', r);
    if (this.localContact && (TARGET_REFRESH.has(method) || method === 'ACK')) {
      request.setHeader('Contact', this.localContact);
    }
    for (const [name, value] of options.headers ?? []) request.appendHeader(name, value);
    if (options.body !== undefined) request.setBody(options.body, options.contentType);
    else request.setHeader('Content-Length', 0);
    return request;
  }

  /** §12.2.1.1: Request-URI and Route values for the next request. */
  routing(): { requestUri: Uri; routes: string[] } {
    const first = this.routeSet[0];
    if (!first) return { requestUri: this.remoteTarget.clone(), routes: [] };
    if (first.uri.kind === 'sip' && first.uri.lr) {
      // Loose routing: Request-URI is the remote target, Route is the whole route set.
      return { requestUri: this.remoteTarget.clone(), routes: this.routeSet.map((r) => r.toString()) };
    }
    // Strict router first (RFC 2543): it gets the Request-URI; the remote target goes last in Route.
    const requestUri = first.uri.clone();
    if (requestUri.kind === 'sip') stripNotAllowedInRequestUri(requestUri);
    const routes = this.routeSet.slice(1).map((r) => r.toString());
    routes.push(`<${this.remoteTarget.toString()}>`);
    return { requestUri, routes };
  }

  /** The URI the next request is sent to before RFC 3263 resolution: the top Route, else the Request-URI. */
  nextHop(): Uri {
    const first = this.routeSet[0];
    return first ? first.uri.clone() : this.remoteTarget.clone();
  }

  terminate(): void {
    this.state = 'terminated';
  }
}

function fromOptions<T>(options: DialogOptions<T>) {
  // Without data the dialog's T is undefined (the default type argument); with data T is its type.
  return { usage: options.usage, data: options.data as T };
}

function isSips(uri: Uri): boolean {
  return uri.kind === 'sip' && uri.scheme === 'sips';
}

/** §19.1.1 Table 1: method and header components are not allowed in a Request-URI. */
function stripNotAllowedInRequestUri(uri: SipUri): void {
  uri.params.delete('method');
  for (const h of [...uri.headers.list]) uri.headers.delete(h.name);
}

/**
 * A UAS answering a dialog-creating request copies its Record-Route values into the response (§12.1.1),
 * so the UAC learns the same route set.
 */
export function copyRecordRoute(request: SipRequest, response: SipResponse): SipResponse {
  response.removeHeader('Record-Route');
  for (const rr of request.getHeaders('Record-Route')) response.appendHeader('Record-Route', rr);
  return response;
}
