import { randomUUID } from 'node:crypto';
import {
  createResponse,
  generateTag,
  parseNameAddr,
  type SipRequest,
  type SipResponse,
} from '@switchboard/sip';
import type { Logger } from 'pino';
import type { AppRequestHandler } from '../admin/admin-server.ts';
import type { AppConnection } from '../admin/app-connection.ts';
import type { AppRegistry } from '../admin/app-registry.ts';
import {
  fetchInstruction,
  handlerFor,
  type RequestHandler,
  RoutingError,
} from '../routing/request-handlers.ts';
import { AppSipError, type AppSipText, splitAppSip } from '../wire/app-sip.ts';
import {
  type AppMessage,
  cdrEventMessage,
  msgSentReply,
  proxyBranchReply,
  responseMessage,
  type SipMessageMeta,
  sipEventMessage,
} from '../wire/protocol.ts';
import {
  appToTag,
  buildInDialogRequest,
  buildNewRequest,
  buildResponse,
  contactFor,
  findHeader,
  parseRequestLine,
} from './app-messages.ts';
import { type Dialog, DialogTable, dialogIdOf } from './dialog-table.ts';
import { isOurs, ProxyCore, parseTimeout, popTopRoute } from './proxy-core.ts';
import { handleRequestSafely } from './request-failure.ts';
import { tooShortSession } from './session-interval.ts';
import type { Flow, IncomingTransaction, OutgoingTransaction, Sent, SipStackPort } from './sip-stack.ts';
import {
  armSubscription,
  createsSubscriptionDialog,
  EXPIRY_GRACE_SECONDS,
  notifiedSeconds,
  renewsSubscription,
  subscriptionSeconds,
  terminatesSubscription,
} from './subscription-dialogs.ts';

export interface BridgeOptions {
  stack: SipStackPort;
  registry: AppRegistry<AppConnection>;
  logger: Logger;
  /** Answer OPTIONS with 200 when no app routes OPTIONS. */
  answerOptions: boolean;
  /** How long an app has to answer an incoming request (drachtio-server: 64 s). */
  appResponseTimeoutMs: number;
  /** RFC 3261 T1, the first retransmission interval of reliable provisionals (RFC 3262 §3). */
  t1Ms?: number;
  /**
   * Our Min-SE in seconds (RFC 4028 §5): the smallest session interval the engine accepts or runs. RFC 4028
   * fixes 90 as the floor for the network; a lower value is for tests only.
   */
  minSessionExpires?: number;
  /** Timer C of proxied INVITE branches in ms (RFC 3261 §16.8; drachtio-server: 185 s). */
  proxyTimerCMs?: number;
  /** How long a subscription dialog outlives its expiry, in seconds (default 32; tests use 0). */
  subscriptionGraceSeconds?: number;
  /** drachtio-server's request handlers: where new requests go instead of the connected apps. */
  requestHandlers?: RequestHandler[];
  /** Connects out to an app listening with `Srf.listen` and resolves once it has authenticated. */
  connectApp?: (host: string, port: number, tls: boolean) => Promise<AppConnection>;
}

/** An incoming request handed to an app and not yet finally answered. */
interface PendingIncoming {
  id: string;
  txn: IncomingTransaction;
  app: AppConnection;
  localTag: string;
  timer: NodeJS.Timeout;
  /** The dialog the request belongs to (in-dialog) or the one its answer created. */
  dialogId: string | undefined;
}

/** A request an app sent and whose final response has not come yet. */
interface PendingOutgoing {
  id: string;
  txn: OutgoingTransaction;
  app: AppConnection;
  dialogId: string | undefined;
  nextHop: string | undefined;
  finalReceived: boolean;
}

const ALLOW =
  'INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, PRACK, REGISTER, SUBSCRIBE, NOTIFY, REFER';

/**
 * Joins drachtio-srf apps and the SIP stack: hands network requests to apps (round-robin per verb, in-dialog
 * to the dialog's owner), completes and sends what apps send, keeps dialogs, answers CANCEL, retransmits 2xx
 * until ACK, and cleans up after an app that goes away.
 */
export class DrachtioBridge implements AppRequestHandler {
  readonly dialogs = new DialogTable();
  private readonly incoming = new Map<string, PendingIncoming>();
  private readonly outgoing = new Map<string, PendingOutgoing>();
  /** Pending incoming requests by transaction (a CANCEL names its INVITE's transaction). */
  private readonly incomingByTxn = new Map<IncomingTransaction, PendingIncoming>();
  /** Dialogs whose 2xx waits for its first ACK (the app gets that one ACK), by the INVITE's transaction. */
  private readonly awaitingAck = new Map<IncomingTransaction, string>();
  /** Requests being proxied, by their server transaction (a CANCEL cancels the branches). */
  private readonly proxies = new Map<IncomingTransaction, ProxyCore>();
  /** New requests waiting for their request handler's answer, by server transaction (a CANCEL ends them). */
  private readonly routing = new Map<IncomingTransaction, { cancelled: boolean }>();
  /** Reliable provisionals waiting for PRACK, by pending incoming INVITE. */
  private readonly reliable = new Map<string, { rseq: number; timer: NodeJS.Timeout }>();
  private readonly log: Logger;
  private readonly t1: number;
  private readonly minSE: number;

  constructor(private readonly options: BridgeOptions) {
    this.log = options.logger;
    this.t1 = options.t1Ms ?? 500;
    this.minSE = options.minSessionExpires ?? 90;
    options.stack.onRequest((txn) =>
      handleRequestSafely(
        txn,
        'request',
        this.log,
        this.listenerOf(txn.flow)?.advertisedAddress ?? txn.flow.localAddress,
        () => this.onNetworkRequest(txn),
        () => this.forgetRequest(txn),
      ),
    );
    // The CANCEL itself was answered by the transaction layer; a failure here must still answer the INVITE.
    options.stack.onCancel((cancel, raw, flow, invite) =>
      handleRequestSafely(
        invite,
        'cancel',
        this.log,
        this.listenerOf(invite.flow)?.advertisedAddress ?? invite.flow.localAddress,
        () => this.onNetworkCancel(cancel, raw, flow, invite),
        () => this.forgetRequest(invite),
      ),
    );
    options.stack.onAckTimeout((invite) => this.guard('ack timeout', () => this.ackTimeout(invite)));
    options.stack.onAck((ack, raw, flow) => this.guard('ack', () => this.onNetworkAck(ack, raw, flow)));
    options.stack.onStrayResponse((response) =>
      this.guard('stray response', () => this.onStrayResponse(response)),
    );
  }

  /** Stops every timer (engine shutdown). */
  close(): void {
    for (const p of this.incoming.values()) clearTimeout(p.timer);
    for (const r of this.reliable.values()) clearTimeout(r.timer);
    this.reliable.clear();
    this.dialogs.clear();
    this.incoming.clear();
    this.incomingByTxn.clear();
    this.awaitingAck.clear();
  }

  // ------------------------------------------------------------------------------------------- app side

  handleSip(app: AppConnection, msg: AppMessage): void {
    const [txnId = '', dialogId = '', nextHop] = msg.args;
    let sip: AppSipText;
    try {
      sip = splitAppSip(msg.sip);
    } catch (err) {
      app.send(responseMessage(msg.msgId, 'NOK', (err as Error).message));
      return;
    }
    const work = async (): Promise<void> => {
      if (sip.startLine.startsWith('SIP/')) {
        if (txnId === '') throw new AppSipError('transaction id missing');
        return this.respondFromApp(app, msg.msgId, txnId, sip);
      }
      if (dialogId !== '') return this.requestInDialog(app, msg.msgId, dialogId, sip);
      const { method } = parseRequestLine(sip);
      if (txnId !== '' && method === 'CANCEL') return this.cancelFromApp(app, msg.msgId, txnId, sip);
      const callId = sip.headers.find(([n]) => /^(call-id|i)$/i.test(n))?.[1];
      const known =
        callId !== undefined && method !== 'INVITE' ? this.dialogs.findByCallId(callId) : undefined;
      if (known) return this.requestInDialog(app, msg.msgId, known.id, sip);
      return this.newRequestFromApp(app, msg.msgId, sip, nextHop || undefined);
    };
    work().catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      this.log.info({ app: app.id, reason }, 'app sip message refused');
      app.send(responseMessage(msg.msgId, 'NOK', reason.replace(/[|\r\n]/g, ' ')));
    });
  }

  /**
   * `proxy|txnId|remainInDialog|fullResponse|followRedirects|simultaneous-or-serial|provTimeout|finalTimeout|dest...`:
   * the engine proxies the incoming request statefully; every branch's final response and then `done` go
   * back to the app.
   */
  handleProxy(app: AppConnection, msg: AppMessage): void {
    const [txnId = '', remainInDialog, , followRedirects, mode, provTimeout, finalTimeout, ...destinations] =
      msg.args;
    const pending = this.incoming.get(txnId);
    if (!pending) {
      app.send(responseMessage(msg.msgId, 'NOK', 'unknown transaction id'));
      return;
    }
    const targets = destinations.filter((d) => d !== '');
    if (targets.length === 0) {
      app.send(responseMessage(msg.msgId, 'NOK', 'Invalid proxy request: no destination'));
      return;
    }
    let headers: Array<[string, string]> = [];
    try {
      if (msg.sip !== '') {
        headers = splitAppSip(msg.sip).headers.filter(
          ([name]) => !/^(via|content-length|l|call-id|i|cseq|from|f|to|t)$/i.test(name),
        );
      }
    } catch {
      headers = [];
    }
    this.finish(pending);
    this.startProxy(
      pending.txn,
      {
        destinations: targets,
        recordRoute: remainInDialog === 'remainInDialog',
        simultaneous: mode === 'simultaneous',
        followRedirects: followRedirects === 'followRedirects',
        provisionalTimeoutMs: parseTimeout(provTimeout),
        finalTimeoutMs: parseTimeout(finalTimeout),
        headers,
      },
      {
        branchFinal: (raw, flow) => {
          if (app.isOpen) app.send(proxyBranchReply(msg.msgId, this.networkMeta(flow, raw), raw));
        },
        done: () => {
          if (app.isOpen) app.send(responseMessage(msg.msgId, 'OK', 'done'));
        },
      },
    );
  }

  /**
   * Proxies an incoming request statefully (for an app's `proxy`, or a request handler's proxy instruction),
   * with the cdr events drachtio-server writes; the app, if any, hears of each branch's final and the end.
   */
  private startProxy(
    txn: IncomingTransaction,
    options: Omit<ConstructorParameters<typeof ProxyCore>[1], 'timerCMs'>,
    app: { branchFinal(raw: string, flow: Flow): void; done(): void } | undefined,
  ): void {
    const request = txn.request;
    const top = request.route[0];
    if (top && isOurs(top.uri.toString(), this.options.stack)) popTopRoute(request);
    const core = new ProxyCore(
      txn,
      { ...options, timerCMs: this.options.proxyTimerCMs ?? 185_000 },
      this.options.stack,
      {
        branchSent: (branchRequest, raw) => {
          if (branchRequest.method === 'INVITE') this.cdr({ kind: 'attempt', source: 'application' }, raw);
        },
        branchFinal: (_response, raw, flow) => app?.branchFinal(raw, flow),
        branchResult: (response, raw) => {
          if (response.cseq.method === 'INVITE') this.proxyCdr('network', 'proxy-uac', response, raw);
        },
        upstreamFinal: (response) => {
          if (request.method === 'INVITE')
            this.proxyCdr('application', 'proxy-uas', response, response.toString());
        },
        done: () => {
          this.proxies.delete(txn);
          app?.done();
        },
      },
      this.log,
    );
    this.proxies.set(txn, core);
    core.start();
  }

  /**
   * The cdr events drachtio-server writes for proxied INVITEs: per branch (network, proxy-uac) and for the
   * response sent upstream (application, proxy-uas): cdr:start for a 2xx, else cdr:stop, call-canceled for a
   * 487 and call-rejected otherwise.
   */
  private proxyCdr(
    source: 'network' | 'application',
    role: 'proxy-uac' | 'proxy-uas',
    response: SipResponse,
    raw: string,
  ): void {
    if (response.status < 200) return;
    this.cdr(
      response.status < 300
        ? { kind: 'start', source, role }
        : { kind: 'stop', source, reason: response.status === 487 ? 'call-canceled' : 'call-rejected' },
      raw,
    );
  }

  /** An in-dialog request routed through us (we Record-Routed it): pop our Route and proxy it on. */
  private proxyInDialog(txn: IncomingTransaction): void {
    popTopRoute(txn.request);
    // drachtio-server ends the proxied call's record on the BYE: once received, once forwarded.
    if (txn.request.method === 'BYE')
      this.cdr({ kind: 'stop', source: 'network', reason: 'normal-release' }, txn.raw);
    const core = new ProxyCore(
      txn,
      {
        destinations: [txn.request.uri.toString()],
        recordRoute: false,
        simultaneous: false,
        followRedirects: false,
        provisionalTimeoutMs: 0,
        finalTimeoutMs: 0,
        headers: [],
      },
      this.options.stack,
      {
        branchFinal: () => {},
        done: () => this.proxies.delete(txn),
        branchSent: (sent, raw) => {
          if (sent.method === 'BYE')
            this.cdr({ kind: 'stop', source: 'application', reason: 'normal-release' }, raw);
        },
      },
      this.log,
    );
    this.proxies.set(txn, core);
    core.start();
  }

  appGone(app: AppConnection): void {
    for (const pending of [...this.incoming.values()]) {
      if (pending.app === app) void this.answer(pending, 503, 'Service Unavailable');
    }
    for (const pending of [...this.outgoing.values()]) {
      if (pending.app !== app) continue;
      if (!pending.finalReceived && pending.txn.request.method === 'INVITE') {
        void pending.txn.cancel('SIP;cause=503;text="application gone"').catch(() => {});
      }
      this.outgoing.delete(pending.id);
    }
    for (const dialog of this.dialogs.ownedBy(app)) {
      this.dialogs.remove(dialog.id);
      this.forgetAwaitingAck(dialog.id);
      if (dialog.confirmed && dialog.usage === 'invite')
        void this.ackThenBye(dialog, 'app disconnected').catch(() => {});
    }
  }

  /**
   * Ends a confirmed INVITE dialog the app left. The app sends the ACK for a 2xx we received; when it left
   * before doing so, the engine ACKs first (every 2xx is ACKed, RFC 3261 §13.2.2.4), then says BYE (§15).
   */
  private async ackThenBye(dialog: Dialog, reason: string): Promise<void> {
    if (dialog.role === 'uac' && dialog.lastAck === undefined) {
      const ack = buildInDialogRequest(
        { startLine: 'ACK sip:placeholder SIP/2.0', headers: [], body: '' },
        dialog,
      );
      await this.options.stack.sendAck(ack, dialog.routeSet.length > 0 ? undefined : dialog.nextHop);
      dialog.lastAck = ack;
    }
    await this.sendBye(dialog, reason);
  }

  private async respondFromApp(
    app: AppConnection,
    msgId: string,
    txnId: string,
    sip: AppSipText,
  ): Promise<void> {
    const pending = this.incoming.get(txnId);
    if (!pending) throw new AppSipError('unknown transaction id or transaction already answered');
    const appTag = appToTag(sip);
    if (appTag !== undefined && pending.txn.request.toTag === undefined) pending.localTag = appTag;
    const request = pending.txn.request;
    const listener = this.listenerOf(pending.txn.flow);
    const response = buildResponse(sip, request, pending.localTag, listener);
    const status = response.status;
    let dialogId = pending.dialogId;
    if (request.method === 'INVITE' && request.toTag === undefined && status > 100 && status < 300) {
      dialogId = this.ensureUasDialog(pending, response, 'invite');
      if (status >= 200) this.dialogs.get(dialogId)!.confirmed = true;
    }
    if (createsSubscriptionDialog(request.method, status, request.toTag !== undefined)) {
      dialogId = this.ensureUasDialog(pending, response, 'subscription');
      this.dialogs.get(dialogId)!.confirmed = true;
    }
    const dialog = dialogId ? this.dialogs.get(dialogId) : undefined;
    if (renewsSubscription(dialog, request.method, status))
      this.armSubscription(dialog, subscriptionSeconds(request, response));
    const reliable =
      request.method === 'INVITE' &&
      status > 100 &&
      status < 200 &&
      dialog !== undefined &&
      response.require.includes('100rel');
    if (reliable) {
      dialog.rseq += 1;
      response.setHeader('RSeq', dialog.rseq);
    }
    if ((request.method === 'INVITE' || request.method === 'UPDATE') && dialog && response.body.length > 0)
      dialog.localBody = bodyOf(response);
    if (
      (request.method === 'INVITE' || request.method === 'UPDATE') &&
      status >= 200 &&
      status < 300 &&
      dialog?.confirmed
    )
      this.applySessionTimer(request, response, dialog);
    const sent = await pending.txn.respond(response);
    if (reliable) this.retransmitReliably(pending, response, dialog.rseq);
    if (status >= 200) {
      this.stopReliable(pending.id);
      this.finish(pending);
      if (request.method === 'INVITE' && status < 300 && dialogId)
        this.awaitingAck.set(pending.txn, dialogId);
      if (request.method === 'INVITE' && status >= 300 && dialogId && request.toTag === undefined) {
        this.dialogs.remove(dialogId);
        dialogId = undefined;
      }
    }
    app.send(msgSentReply(msgId, this.sentMeta(sent), txnId, dialogId ?? '', sent.raw));
    if (request.method === 'INVITE' && request.toTag === undefined && status >= 200) {
      this.cdr(
        status < 300
          ? { kind: 'start', source: 'application', role: 'uas' }
          : { kind: 'stop', source: 'application', reason: 'call-rejected' },
        sent.raw,
      );
    }
  }

  private async newRequestFromApp(
    app: AppConnection,
    msgId: string,
    sip: AppSipText,
    nextHop: string | undefined,
  ): Promise<void> {
    const { uri } = parseRequestLine(sip);
    const listener = this.options.stack.listenerFor(uri, nextHop);
    if (!listener) throw new AppSipError('requested protocol/transport not available');
    const request = buildNewRequest(sip, listener);
    const txn = await this.options.stack.sendRequest(request, nextHop);
    const id = randomUUID();
    const pending: PendingOutgoing = { id, txn, app, dialogId: undefined, nextHop, finalReceived: false };
    this.outgoing.set(id, pending);
    this.watchOutgoing(pending, listener);
    app.send(msgSentReply(msgId, this.sentMeta(txn.sent), id, undefined, txn.sent.raw));
    if (request.method === 'INVITE') this.cdr({ kind: 'attempt', source: 'application' }, txn.sent.raw);
  }

  private async requestInDialog(
    app: AppConnection,
    msgId: string,
    dialogId: string,
    sip: AppSipText,
  ): Promise<void> {
    const dialog = this.dialogs.get(dialogId);
    if (!dialog) throw new AppSipError(`unable to find dialog for dialog id ${dialogId}`);
    const request = buildInDialogRequest(sip, dialog, this.listenerOf(dialog.flow));
    const id = randomUUID();
    if (/^(INVITE|UPDATE|ACK)$/.test(request.method) && request.body.length > 0)
      dialog.localBody = bodyOf(request);
    if (request.method === 'ACK') {
      const sent = await this.options.stack.sendAck(
        request,
        dialog.routeSet.length > 0 ? undefined : dialog.nextHop,
      );
      dialog.lastAck = request;
      app.send(msgSentReply(msgId, this.sentMeta(sent), id, dialogId, sent.raw));
      return;
    }
    const txn = await this.options.stack.sendRequest(
      request,
      dialog.routeSet.length > 0 ? undefined : dialog.nextHop,
    );
    const pending: PendingOutgoing = {
      id,
      txn,
      app,
      dialogId,
      nextHop: dialog.nextHop,
      finalReceived: false,
    };
    this.outgoing.set(id, pending);
    this.watchOutgoing(pending, this.listenerOf(txn.sent.flow));
    if (request.method === 'BYE' && dialog.usage === 'invite') {
      // The dialog ends with the BYE's final response, except a challenge: drachtio-srf sends the BYE again
      // with credentials inside the same dialog (RFC 3261 §15.1.1, §22.2).
      this.forgetAwaitingAck(dialogId);
      txn.onResponse((response) => {
        if (response.status >= 200 && response.status !== 401 && response.status !== 407)
          this.dialogs.remove(dialogId);
      });
    }
    // RFC 6665 §4.2.2: the notifier ends the subscription, and with it a dialog that has no other usage.
    if (dialog.usage === 'subscription' && terminatesSubscription(request)) this.dialogs.remove(dialogId);
    app.send(msgSentReply(msgId, this.sentMeta(txn.sent), id, dialogId, txn.sent.raw));
  }

  private async cancelFromApp(
    app: AppConnection,
    msgId: string,
    txnId: string,
    sip: AppSipText,
  ): Promise<void> {
    const pending = this.outgoing.get(txnId);
    if (pending?.txn.request.method !== 'INVITE') throw new AppSipError('unknown transaction id');
    if (pending.finalReceived) throw new AppSipError('transaction already completed');
    const sent = await pending.txn.cancel(findHeader(sip, 'reason'));
    app.send(msgSentReply(msgId, this.sentMeta(sent), txnId, undefined, sent.raw));
  }

  private watchOutgoing(
    pending: PendingOutgoing,
    listener: ReturnType<BridgeOptions['stack']['listenerFor']>,
  ): void {
    const request = pending.txn.request;
    pending.txn.onResponse((response, raw, flow) =>
      this.guard('response', () => {
        const status = response.status;
        if (status >= 200) pending.finalReceived = true;
        let dialogId = pending.dialogId;
        if (
          request.method === 'INVITE' &&
          dialogId === undefined &&
          status > 100 &&
          response.toTag !== undefined
        ) {
          dialogId = this.ensureUacDialog(pending, response, flow, listener, 'invite');
        }
        if (request.method === 'INVITE' && status >= 300 && pending.dialogId === undefined && dialogId) {
          this.dialogs.remove(dialogId);
        }
        if (
          createsSubscriptionDialog(request.method, status, pending.dialogId !== undefined) &&
          response.toTag !== undefined
        ) {
          dialogId = this.ensureUacDialog(pending, response, flow, listener, 'subscription');
          this.dialogs.get(dialogId)!.confirmed = true;
        }
        const subscription = dialogId ? this.dialogs.get(dialogId) : undefined;
        if (renewsSubscription(subscription, request.method, status))
          this.armSubscription(subscription, subscriptionSeconds(request, response));
        if (request.method === 'INVITE' && status >= 200 && status < 300 && dialogId) {
          const dialog = this.dialogs.get(dialogId);
          if (dialog) {
            // The 2xx fixes the dialog: its tag, target and route set replace what an early 1xx set (§12.1.2).
            dialog.confirmed = true;
            dialog.remoteTag = response.toTag ?? dialog.remoteTag;
            dialog.remoteTarget = firstContactUri(response) ?? dialog.remoteTarget;
            dialog.routeSet = response.getHeaders('record-route').flatMap(splitAddresses).reverse();
          }
        }
        if (
          (request.method === 'INVITE' || request.method === 'UPDATE') &&
          status >= 200 &&
          status < 300 &&
          dialogId
        ) {
          // RFC 4028 §7.2: the 2xx to our request sets the session timer; refresher=uac (or none) means us.
          const dialog = this.dialogs.get(dialogId);
          const se = response.sessionExpires;
          if (dialog && se) this.startSessionTimer(dialog, se.seconds, se.refresher !== 'uas');
        }
        if (status >= 200) this.outgoing.delete(pending.id);
        if (!pending.app.isOpen) return;
        pending.app.send(sipEventMessage(this.networkMeta(flow, raw), pending.id, dialogId ?? '', raw));
        if (request.method === 'INVITE' && pending.dialogId === undefined && status >= 200) {
          this.cdr(
            status < 300
              ? { kind: 'start', source: 'network', role: 'uac' }
              : { kind: 'stop', source: 'network', reason: 'call-rejected' },
            raw,
          );
        }
      }),
    );
  }

  // ------------------------------------------------------------------------------------------- network side

  private onNetworkRequest(txn: IncomingTransaction): void {
    const request = txn.request;
    if (request.toTag !== undefined) {
      this.onNetworkInDialog(txn);
      return;
    }
    const tooShort = tooShortSession(request, this.minSE, true);
    if (tooShort) {
      void txn.respond(tooShort);
      return;
    }
    const handler = this.options.requestHandlers
      ? handlerFor(this.options.requestHandlers, request.method)
      : undefined;
    if (handler) {
      if (request.method === 'INVITE') this.cdr({ kind: 'attempt', source: 'network' }, txn.raw);
      void this.routeByHandler(txn, handler);
      return;
    }
    const app = this.options.registry.select(request.method);
    if (app && request.method === 'INVITE') this.cdr({ kind: 'attempt', source: 'network' }, txn.raw);
    if (!app) {
      if (request.method === 'OPTIONS' && this.options.answerOptions) {
        void txn.respond(
          createResponse(request, 200, {
            headers: [
              ['Allow', ALLOW],
              ['Accept', 'application/sdp'],
            ],
          }),
        );
      } else {
        void txn.respond(createResponse(request, request.method === 'ACK' ? 200 : 503));
      }
      return;
    }
    this.deliverNew(txn, app);
  }

  /** Hands a new request to the app chosen for it. */
  private deliverNew(txn: IncomingTransaction, app: AppConnection): void {
    const pending = this.track(txn, app, undefined, generateTag());
    const receivedOn = { host: txn.flow.localAddress, port: txn.flow.localPort };
    app.send(sipEventMessage(this.networkMeta(txn.flow, txn.raw), pending.id, '', txn.raw, receivedOn));
  }

  /**
   * drachtio-server's request handlers (routing/request-handlers.ts): the handler says where the request goes
   * (reject, redirect, proxy, an app to connect out to, or the connected apps with a tag). A handler that
   * fails or answers nonsense gets the request a 500; an app that cannot be reached or no app with the tag, 480.
   */
  private async routeByHandler(txn: IncomingTransaction, handler: RequestHandler): Promise<void> {
    const request = txn.request;
    const state = { cancelled: false };
    this.routing.set(txn, state);
    const respond = (status: number, reason?: string, headers: Array<[string, string]> = []) =>
      txn
        .respond(createResponse(request, status, { ...(reason ? { reason } : {}), headers }))
        .catch(() => {});
    try {
      const instruction = await fetchInstruction(
        handler,
        request,
        txn.raw,
        txn.flow.transport,
        txn.flow.remoteAddress,
      );
      if (state.cancelled) return;
      this.log.debug({ method: request.method, instruction }, 'request handler answered');
      switch (instruction.action) {
        case 'reject':
          await respond(instruction.status, instruction.reason);
          return;
        case 'redirect':
          await respond(
            302,
            'Moved Temporarily',
            instruction.contacts.map((c) => ['Contact', c.includes('<') ? c : `<${c}>`]),
          );
          return;
        case 'proxy':
          this.startProxy(
            txn,
            {
              destinations: instruction.destinations,
              recordRoute: instruction.recordRoute,
              simultaneous: instruction.simultaneous,
              followRedirects: instruction.followRedirects,
              provisionalTimeoutMs: parseTimeout(instruction.provisionalTimeout),
              finalTimeoutMs: parseTimeout(instruction.finalTimeout),
              headers: [],
            },
            undefined,
          );
          return;
        case 'tag': {
          const app = this.options.registry.select(request.method, instruction.tag);
          if (!app) {
            this.log.info(
              { tag: instruction.tag, method: request.method },
              'no app with that tag routes the method',
            );
            await respond(480);
            return;
          }
          this.deliverNew(txn, app);
          return;
        }
        case 'connect': {
          if (!this.options.connectApp) throw new RoutingError('outbound connections are not available');
          let app: AppConnection;
          try {
            app = await this.options.connectApp(instruction.host, instruction.port, instruction.tls);
          } catch (err) {
            this.log.info(
              { host: instruction.host, port: instruction.port, err: (err as Error).message },
              'could not connect to the app',
            );
            await respond(480);
            return;
          }
          if (state.cancelled) {
            app.close();
            return;
          }
          this.deliverNew(txn, app);
          return;
        }
      }
    } catch (err) {
      this.log.warn({ method: request.method, err: (err as Error).message }, 'request handler failed');
      if (!state.cancelled) await respond(500);
    } finally {
      this.routing.delete(txn);
    }
  }

  private onNetworkInDialog(txn: IncomingTransaction): void {
    const request = txn.request;
    const dialog = this.dialogs.matchIncoming(request.callId, request.fromTag, request.toTag);
    const top = request.route[0];
    if (!dialog && top && isOurs(top.uri.toString(), this.options.stack)) {
      this.proxyInDialog(txn);
      return;
    }
    if (!dialog?.owner.isOpen) {
      // RFC 3261 §12.2.2: a request for a dialog we do not know is answered 481.
      void txn.respond(createResponse(request, 481));
      return;
    }
    const cseq = request.cseq.seq;
    if (dialog.remoteCseq !== undefined && cseq < dialog.remoteCseq && request.method !== 'PRACK') {
      void txn.respond(createResponse(request, 500, { reason: 'Request Out Of Order' }));
      return;
    }
    dialog.remoteCseq = cseq;
    if (request.method === 'INVITE' || request.method === 'UPDATE') {
      dialog.remoteTarget = firstContactUri(request) ?? dialog.remoteTarget;
    }
    if (request.method === 'PRACK') this.prackReceived(dialog, request);
    const tooShort = tooShortSession(request, this.minSE, false);
    if (tooShort) {
      void txn.respond(tooShort);
      return;
    }
    const pending = this.track(txn, dialog.owner, dialog.id, dialog.localTag);
    if (request.method === 'BYE' && dialog.usage === 'invite') {
      this.dialogs.remove(dialog.id);
      this.forgetAwaitingAck(dialog.id);
      this.cdr({ kind: 'stop', source: 'network', reason: 'normal-release' }, txn.raw);
    }
    if (dialog.usage === 'subscription' && request.method === 'NOTIFY') {
      // RFC 6665 §4.1.3: the subscriber learns the expiry, or the end, from each NOTIFY.
      const seconds = notifiedSeconds(request);
      if (terminatesSubscription(request)) this.dialogs.remove(dialog.id);
      else if (seconds !== undefined) this.armSubscription(dialog, seconds);
    }
    dialog.owner.send(sipEventMessage(this.networkMeta(txn.flow, txn.raw), pending.id, dialog.id, txn.raw));
  }

  /** The stack answered the CANCEL with 200 (RFC 3261 §9.2); the INVITE gets 487 and the app hears of it. */
  private onNetworkCancel(cancel: SipRequest, raw: string, flow: Flow, invite: IncomingTransaction): void {
    const routing = this.routing.get(invite);
    if (routing) {
      // cancelled while its request handler was being asked
      routing.cancelled = true;
      void invite.respond(createResponse(invite.request, 487)).catch(() => {});
      return;
    }
    const proxy = this.proxies.get(invite);
    if (proxy) {
      proxy.cancel();
      return;
    }
    const pending = this.incomingByTxn.get(invite);
    if (!pending) return;
    void this.answer(pending, 487, 'Request Terminated');
    if (pending.app.isOpen) {
      pending.app.send(sipEventMessage(this.networkMeta(flow, raw), pending.id, '', raw));
    }
    this.cdr({ kind: 'stop', source: 'network', reason: 'call-canceled' }, cancel.toString());
  }

  private onNetworkAck(ack: SipRequest, raw: string, flow: Flow): void {
    const dialog = this.dialogs.matchIncoming(ack.callId, ack.fromTag, ack.toTag);
    if (!dialog) {
      // The ACK for a 2xx we proxied with Record-Route: forward it statelessly (§16.11).
      const top = ack.route[0];
      if (top && isOurs(top.uri.toString(), this.options.stack)) {
        popTopRoute(ack);
        ack.setHeader('Max-Forwards', Math.max((ack.maxForwards ?? 70) - 1, 0));
        void this.options.stack.sendAck(ack, undefined, { proxy: true }).catch(() => {});
      }
      return;
    }
    // Only the first ACK for each 2xx goes up; retransmitted ACKs stop here.
    if (!this.forgetAwaitingAck(dialog.id)) return;
    if (dialog.owner.isOpen)
      dialog.owner.send(sipEventMessage(this.networkMeta(flow, raw), randomUUID(), dialog.id, raw));
  }

  /** A 2xx retransmitted after our ACK: send the same ACK again (RFC 3261 §13.2.2.4). */
  private onStrayResponse(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300 || response.cseq.method !== 'INVITE') return;
    const fromTag = response.fromTag;
    if (!fromTag) return;
    const dialog = this.dialogs.get(dialogIdOf(response.callId, fromTag));
    if (dialog?.lastAck)
      void this.options.stack
        .sendAck(dialog.lastAck, dialog.routeSet.length > 0 ? undefined : dialog.nextHop)
        .catch(() => {});
  }

  // ------------------------------------------------------------------------------------------- helpers

  private track(
    txn: IncomingTransaction,
    app: AppConnection,
    dialogId: string | undefined,
    localTag: string,
  ): PendingIncoming {
    const id = randomUUID();
    const timer = setTimeout(() => {
      const pending = this.incoming.get(id);
      if (!pending) return;
      this.log.warn({ app: app.id, method: txn.request.method }, 'app did not answer in time');
      void this.answer(pending, 408, 'Request Timeout');
    }, this.options.appResponseTimeoutMs);
    timer.unref();
    const pending: PendingIncoming = { id, txn, app, localTag, timer, dialogId };
    this.incoming.set(id, pending);
    this.incomingByTxn.set(txn, pending);
    txn.onTerminated(() => this.finish(pending));
    return pending;
  }

  /** Forgets an incoming request whose handling failed (it is answered by handleRequestSafely). */
  private forgetRequest(txn: IncomingTransaction): void {
    const pending = this.incomingByTxn.get(txn);
    if (pending) {
      this.stopReliable(pending.id);
      this.finish(pending);
    }
    this.routing.delete(txn);
    this.proxies.delete(txn);
  }

  private finish(pending: PendingIncoming): void {
    clearTimeout(pending.timer);
    this.incoming.delete(pending.id);
    this.incomingByTxn.delete(pending.txn);
  }

  /** The engine answers an incoming request itself (CANCEL, timeout, app gone). */
  private async answer(pending: PendingIncoming, status: number, reason: string): Promise<void> {
    this.finish(pending);
    if (pending.dialogId && pending.txn.request.toTag === undefined) this.dialogs.remove(pending.dialogId);
    try {
      await pending.txn.respond(
        createResponse(pending.txn.request, status, { reason, toTag: pending.localTag }),
      );
    } catch (err) {
      this.log.debug({ err }, 'could not send engine response');
    }
  }

  private ensureUasDialog(pending: PendingIncoming, response: SipResponse, usage: Dialog['usage']): string {
    const request = pending.txn.request;
    const id = dialogIdOf(request.callId, request.fromTag ?? '');
    if (!this.dialogs.get(id)) {
      const listener = this.listenerOf(pending.txn.flow);
      this.dialogs.add({
        id,
        role: 'uas',
        usage,
        subscriptionTimer: undefined,
        callId: request.callId,
        localTag: pending.localTag,
        remoteTag: request.fromTag ?? '',
        localUri: stripTag(request.getHeader('to') ?? ''),
        remoteUri: stripTag(request.getHeader('from') ?? ''),
        remoteTarget: firstContactUri(request) ?? request.from.uri.toString(),
        routeSet: request.getHeaders('record-route').flatMap(splitAddresses),
        localCseq: 0,
        remoteCseq: request.cseq.seq,
        localContact: response.getHeader('contact') ?? (listener ? contactFor(listener) : ''),
        inviteCseq: request.cseq.seq,
        owner: pending.app,
        flow: pending.txn.flow,
        nextHop: undefined,
        confirmed: false,
        lastAck: undefined,
        rseq: Math.floor(Math.random() * 0x7fffffff),
        sessionTimer: undefined,
        refreshTimer: undefined,
        sessionInterval: undefined,
        weRefresh: false,
        localBody: bodyOf(response),
      });
    }
    pending.dialogId = id;
    return id;
  }

  private ensureUacDialog(
    pending: PendingOutgoing,
    response: SipResponse,
    flow: Flow,
    listener: ReturnType<BridgeOptions['stack']['listenerFor']>,
    usage: Dialog['usage'],
  ): string {
    const request = pending.txn.request;
    const id = dialogIdOf(request.callId, request.fromTag ?? '');
    const existing = this.dialogs.get(id);
    if (existing) {
      existing.remoteTag = response.toTag ?? existing.remoteTag;
      return id;
    }
    this.dialogs.add({
      id,
      role: 'uac',
      usage,
      subscriptionTimer: undefined,
      callId: request.callId,
      localTag: request.fromTag ?? '',
      remoteTag: response.toTag ?? '',
      localUri: stripTag(request.getHeader('from') ?? ''),
      remoteUri: stripTag(request.getHeader('to') ?? ''),
      remoteTarget: firstContactUri(response) ?? request.uri.toString(),
      routeSet: response.getHeaders('record-route').flatMap(splitAddresses).reverse(),
      localCseq: request.cseq.seq,
      remoteCseq: undefined,
      localContact: request.getHeader('contact') ?? (listener ? contactFor(listener) : ''),
      inviteCseq: request.cseq.seq,
      owner: pending.app,
      flow,
      nextHop: pending.nextHop,
      confirmed: false,
      lastAck: undefined,
      rseq: 0,
      sessionTimer: undefined,
      refreshTimer: undefined,
      sessionInterval: undefined,
      weRefresh: false,
      localBody: bodyOf(request),
    });
    return id;
  }

  /** A subscription not refreshed in time ends, and so does its dialog (RFC 6665 §4.1.2.2, §4.2.2). */
  private armSubscription(dialog: Dialog, seconds: number): void {
    armSubscription(dialog, seconds, this.options.subscriptionGraceSeconds ?? EXPIRY_GRACE_SECONDS, () => {
      if (this.dialogs.get(dialog.id) !== dialog) return;
      this.log.info({ dialogId: dialog.id }, 'subscription expired: forgetting its dialog');
      this.dialogs.remove(dialog.id);
    });
  }

  /** Stops waiting for the first ACK of a dialog's 2xx; true when it was being waited for. */
  private forgetAwaitingAck(dialogId: string): boolean {
    for (const [txn, id] of this.awaitingAck) {
      if (id === dialogId) {
        this.awaitingAck.delete(txn);
        return true;
      }
    }
    return false;
  }

  private ackTimeout(invite: IncomingTransaction): void {
    const dialogId = this.awaitingAck.get(invite);
    if (dialogId === undefined) return;
    this.awaitingAck.delete(invite);
    const dialog = this.dialogs.get(dialogId);
    if (!dialog) return;
    this.log.info({ dialogId }, 'no ACK for our 2xx: ending the dialog');
    this.endDialogUnsolicited(dialog, 'ACK timeout');
  }

  /**
   * The engine ends a dialog itself: BYE to the peer, the same BYE to the app as `unsolicited`, and a
   * cdr:stop when a reason is given (drachtio-server: `session-expired` for session timer expiry).
   */
  private endDialogUnsolicited(dialog: Dialog, reason: string, cdrReason?: string): void {
    const dialogId = dialog.id;
    this.dialogs.remove(dialogId);
    this.forgetAwaitingAck(dialogId);
    void this.sendBye(dialog, reason).then(
      (sent) => {
        if (dialog.owner.isOpen)
          dialog.owner.send(sipEventMessage(this.sentMeta(sent), 'unsolicited', dialogId, sent.raw));
        if (cdrReason) this.cdr({ kind: 'stop', source: 'application', reason: cdrReason }, sent.raw);
      },
      () => {},
    );
  }

  private async sendBye(dialog: Dialog, reason: string): Promise<Sent> {
    const sip: AppSipText = {
      startLine: 'BYE sip:placeholder SIP/2.0',
      headers: [['Reason', `SIP;text="${reason}"`]],
      body: '',
    };
    const bye = buildInDialogRequest(sip, dialog);
    const txn = await this.options.stack.sendRequest(
      bye,
      dialog.routeSet.length > 0 ? undefined : dialog.nextHop,
    );
    return txn.sent;
  }

  /**
   * Sends a reliable provisional again, T1 doubling, until its PRACK arrives; without PRACK after 64*T1 the
   * INVITE is rejected (RFC 3262 §3).
   */
  private retransmitReliably(pending: PendingIncoming, response: SipResponse, rseq: number): void {
    let interval = this.t1;
    let elapsed = 0;
    const tick = (): void => {
      elapsed += interval;
      if (!this.incoming.has(pending.id)) {
        this.stopReliable(pending.id);
        return;
      }
      if (elapsed >= 64 * this.t1) {
        this.stopReliable(pending.id);
        void this.answer(pending, 504, 'Reliable Provisional Not Acknowledged');
        return;
      }
      void pending.txn.respond(response).catch(() => {});
      interval *= 2;
      const timer = setTimeout(tick, interval);
      timer.unref();
      this.reliable.set(pending.id, { rseq, timer });
    };
    this.stopReliable(pending.id);
    const timer = setTimeout(tick, interval);
    timer.unref();
    this.reliable.set(pending.id, { rseq, timer });
  }

  private stopReliable(pendingId: string): void {
    const entry = this.reliable.get(pendingId);
    if (entry) clearTimeout(entry.timer);
    this.reliable.delete(pendingId);
  }

  /** A PRACK acknowledges the reliable provisional whose RSeq its RAck names (RFC 3262 §7.2). */
  private prackReceived(dialog: Dialog, prack: SipRequest): void {
    const rack = prack.rack;
    if (!rack) return;
    for (const [pendingId, entry] of this.reliable) {
      const pending = this.incoming.get(pendingId);
      if (pending?.dialogId === dialog.id && entry.rseq === rack.rseq) this.stopReliable(pendingId);
    }
  }

  /**
   * RFC 4028 on a 2xx we send to an INVITE or UPDATE (the dialog's first or a refresh). A Session-Expires the
   * app wrote is kept; otherwise, when the request asks for a session timer and supports timers, the engine
   * accepts it (at least our Min-SE) with the refresher the request named, `uac` by default (§9). Then the
   * timer runs: refresher=uac means the peer refreshes and we watch for expiry, refresher=uas means we refresh.
   * A refresh request without Session-Expires turns the timer off (§9: no session expiration).
   */
  private applySessionTimer(request: SipRequest, response: SipResponse, dialog: Dialog): void {
    let interval: number;
    let refresher: string;
    const answered = response.sessionExpires;
    if (answered) {
      // drachtio-server runs the app's interval but never below Min-SE.
      interval = Math.max(answered.seconds, this.minSE);
      refresher = answered.refresher ?? 'uac';
    } else {
      const asked = request.sessionExpires;
      if (!asked || !request.supported.includes('timer')) {
        this.stopSessionTimer(dialog);
        return;
      }
      interval = Math.max(asked.seconds, request.minSE ?? 0, this.minSE);
      refresher = asked.refresher ?? 'uac';
      response.setHeader('Session-Expires', `${interval};refresher=${refresher}`);
      if (refresher === 'uac' && !response.require.includes('timer'))
        response.appendHeader('Require', 'timer');
    }
    this.startSessionTimer(dialog, interval, refresher === 'uas');
  }

  /**
   * (Re)starts a dialog's session timer (RFC 4028 §10). The refresher refreshes at half the interval and ends
   * the session if it is not refreshed by the end of it; the other side sends BYE when no refresh has come
   * by interval - min(32, interval/3) seconds.
   */
  private startSessionTimer(dialog: Dialog, interval: number, weRefresh: boolean): void {
    this.stopSessionTimer(dialog);
    if (!(interval > 0)) return;
    dialog.sessionInterval = interval;
    dialog.weRefresh = weRefresh;
    if (weRefresh) {
      dialog.refreshTimer = setTimeout(
        () => this.guard('session refresh', () => this.refreshSession(dialog)),
        interval * 500,
      );
      dialog.refreshTimer.unref();
    }
    const expirySeconds = weRefresh ? interval : interval - Math.min(32, interval / 3);
    dialog.sessionTimer = setTimeout(() => {
      dialog.sessionTimer = undefined;
      if (this.dialogs.get(dialog.id) !== dialog) return;
      this.log.info({ dialogId: dialog.id }, 'session not refreshed in time: ending the dialog');
      this.endDialogUnsolicited(dialog, 'Session timer expired', 'session-expired');
    }, expirySeconds * 1000);
    dialog.sessionTimer.unref();
  }

  private stopSessionTimer(dialog: Dialog): void {
    if (dialog.sessionTimer) clearTimeout(dialog.sessionTimer);
    if (dialog.refreshTimer) clearTimeout(dialog.refreshTimer);
    dialog.sessionTimer = undefined;
    dialog.refreshTimer = undefined;
    dialog.sessionInterval = undefined;
  }

  /**
   * We are the refresher and half the interval has passed: send the session refresh ourselves, as
   * drachtio-server does (the app is not involved): a re-INVITE offering our current session description
   * again with `Session-Expires: N;refresher=uac`, or an UPDATE without body when we have none (RFC 4028 §10;
   * a re-INVITE without an offer would need an answer in the ACK).
   */
  private refreshSession(dialog: Dialog): void {
    dialog.refreshTimer = undefined;
    if (this.dialogs.get(dialog.id) !== dialog || !dialog.confirmed || !dialog.sessionInterval) return;
    const method = dialog.localBody ? 'INVITE' : 'UPDATE';
    const headers: Array<[string, string]> = [
      ['Session-Expires', `${dialog.sessionInterval};refresher=uac`],
      ['Min-SE', String(this.minSE)],
      ['Supported', 'timer'],
    ];
    if (dialog.localBody) headers.push(['Content-Type', dialog.localBody.contentType]);
    const request = buildInDialogRequest(
      { startLine: `${method} sip:placeholder SIP/2.0`, headers, body: dialog.localBody?.body ?? '' },
      dialog,
    );
    this.log.info({ dialogId: dialog.id, method }, 'refreshing the session');
    this.options.stack
      .sendRequest(request, dialog.routeSet.length > 0 ? undefined : dialog.nextHop)
      .then((txn) =>
        txn.onResponse((response) =>
          this.guard('session refresh response', () => this.refreshAnswered(dialog, request, response)),
        ),
      )
      .catch((err: unknown) => {
        this.log.info({ dialogId: dialog.id, err: (err as Error).message }, 'session refresh not sent');
        if (this.dialogs.get(dialog.id) === dialog)
          this.endDialogUnsolicited(dialog, 'Session timer expired', 'session-expired');
      });
  }

  /**
   * The answer to our session refresh. A 2xx (ACKed here for a re-INVITE) restarts the timer with the
   * interval it carries (§7.2; none turns it off); 491 (glare, RFC 3261 §14.1) retries after 2.1-4 s; 422
   * retries at once with the peer's Min-SE (§7.4); any other failure, a timeout included, ends the dialog
   * with a BYE, as drachtio-server does.
   */
  private refreshAnswered(dialog: Dialog, request: SipRequest, response: SipResponse): void {
    const status = response.status;
    if (status < 200 || this.dialogs.get(dialog.id) !== dialog) return;
    if (status < 300) {
      dialog.remoteTarget = firstContactUri(response) ?? dialog.remoteTarget;
      if (request.method === 'INVITE') {
        const ack = buildInDialogRequest(
          { startLine: 'ACK sip:placeholder SIP/2.0', headers: [], body: '' },
          dialog,
        );
        dialog.lastAck = ack;
        void this.options.stack
          .sendAck(ack, dialog.routeSet.length > 0 ? undefined : dialog.nextHop)
          .catch(() => {});
      }
      const se = response.sessionExpires;
      if (se) this.startSessionTimer(dialog, se.seconds, se.refresher !== 'uas');
      else this.stopSessionTimer(dialog);
      return;
    }
    if (status === 491) {
      dialog.refreshTimer = setTimeout(
        () => this.guard('session refresh', () => this.refreshSession(dialog)),
        2100 + Math.random() * 1900,
      );
      dialog.refreshTimer.unref();
      return;
    }
    const peerMin = response.minSE;
    if (status === 422 && peerMin !== undefined && peerMin > (dialog.sessionInterval ?? 0)) {
      dialog.sessionInterval = peerMin;
      this.refreshSession(dialog);
      return;
    }
    this.log.info({ dialogId: dialog.id, status }, 'session refresh failed: ending the dialog');
    this.endDialogUnsolicited(dialog, 'Session timer expired', 'session-expired');
  }

  /** A cdr event goes to one of the apps that routed its verb, in turn, as drachtio-server sends it. */
  private cdr(event: Parameters<typeof cdrEventMessage>[0], raw: string): void {
    this.options.registry.select(`cdr:${event.kind}`)?.send(cdrEventMessage(event, raw));
  }

  private listenerOf(flow: Flow) {
    return (
      this.options.stack.listeners.find((l) => l.transport === flow.transport && l.port === flow.localPort) ??
      this.options.stack.listeners.find((l) => l.transport === flow.transport)
    );
  }

  private networkMeta(flow: Flow, raw: string): SipMessageMeta {
    return {
      source: 'network',
      bytes: Buffer.byteLength(raw),
      protocol: flow.transport,
      address: flow.remoteAddress,
      port: flow.remotePort,
    };
  }

  private sentMeta(sent: Sent): SipMessageMeta {
    return {
      source: 'application',
      bytes: Buffer.byteLength(sent.raw),
      protocol: sent.flow.transport,
      address: sent.flow.localAddress,
      port: sent.flow.localPort,
    };
  }

  /** A bug or a surprise in one message must not take the engine down. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, what }, 'failed to process SIP message');
    }
  }
}

/**
 * A From/To value without its tag, for a dialog's local and remote URI (RFC 3261 §12.1), in name-addr form as
 * sofia-sip writes it (`sip:a@b;tag=1` becomes `<sip:a@b>`); a value that does not parse loses only its tag.
 */
function stripTag(value: string): string {
  try {
    const address = parseNameAddr(value);
    address.params.delete('tag');
    return address.toString();
  } catch {
    return value.replace(/;\s*tag=[^;]*/i, '');
  }
}

function splitAddresses(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((s) => s !== '');
}

/** The body of a message and its type, kept as the dialog's current session description. */
function bodyOf(message: SipRequest | SipResponse): Dialog['localBody'] {
  if (message.body.length === 0) return undefined;
  return {
    body: message.body.toString('utf8'),
    contentType: message.getHeader('content-type') ?? 'application/sdp',
  };
}

function firstContactUri(message: SipRequest | SipResponse): string | undefined {
  const contact = message.contact;
  if (contact === '*' || contact.length === 0) return undefined;
  return contact[0]!.uri.toString();
}
