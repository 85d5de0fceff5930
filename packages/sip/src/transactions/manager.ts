import { EventEmitter } from 'node:events';
import { createCancel, createNon2xxAck, createResponse } from '../messages/builders.ts';
import { detached } from '../messages/detached.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';
import type { TransportLayer } from '../transport/transport-layer.ts';
import {
  isReliable,
  type MessageSource,
  type SendResult,
  type SipLogger,
  silentLogger,
  type TransportTarget,
} from '../transport/types.ts';
import { InviteClientTransaction, NonInviteClientTransaction } from './client.ts';
import { ensureTopVia } from './requests.ts';
import { InviteServerTransaction, NonInviteServerTransaction } from './server.ts';
import { DEFAULT_TIMERS, type TimerSettings, timerDurations } from './timers.ts';
import type { TransactionSender } from './transaction.ts';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export interface TransactionManagerOptions {
  timers?: Partial<TimerSettings>;
  logger?: SipLogger;
  /** INVITE server transactions send 100 Trying by themselves after `timers.tryingDelay` (default true). */
  autoTrying?: boolean;
}

export interface TransactionManagerEvents {
  /** A new request with the server transaction created for it (never ACK or CANCEL: see `ack`, `cancel`). */
  request: [request: SipRequest, transaction: ServerTransaction, source: MessageSource];
  /**
   * An ACK matching no INVITE server transaction: the ACK for a 2xx, end-to-end (§17.2.3, §13.3.1.4).
   * `acknowledged`: the transaction whose 2xx (sent with `acceptInvite`) it acknowledges, the first time;
   * it holds neither the INVITE nor the parsed 2xx any more.
   */
  ack: [ack: SipRequest, source: MessageSource, acknowledged?: InviteServerTransaction];
  /**
   * A CANCEL matching an INVITE server transaction that has not sent a final response (§9.2). The manager has
   * already answered the CANCEL with 200; the TU answers the INVITE (a UAS with 487, a proxy by cancelling
   * its branches).
   */
  cancel: [cancel: SipRequest, invite: InviteServerTransaction, source: MessageSource];
  /** A response matching no client transaction (§17.1.3), e.g. a 2xx retransmission after Timer M. */
  strayResponse: [response: SipResponse, source: MessageSource];
  /** A 2xx sent with `acceptInvite` was never ACKed within 64*T1 (§13.3.1.4): the TU should send BYE. */
  ackTimeout: [transaction: InviteServerTransaction, response: SipResponse];
}

/** Server transaction key per §17.2.3 (RFC 3261 branch) or the RFC 2543 fallback. ACK maps to INVITE. */
export function serverTransactionKey(request: SipRequest, methodOverride?: string): string {
  const via = request.topVia;
  if (!via) throw new Error('request has no Via');
  const method = methodOverride ?? (request.method === 'ACK' ? 'INVITE' : request.method);
  if (via.isRfc3261Branch) {
    // §17.2.3: branch + sent-by + method (ACK matches the INVITE).
    return `${via.branch}|${via.sentBy.toLowerCase()}|${method}`;
  }
  // §17.2.3 RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number, top Via (the To tag is checked
  // separately, because the ACK carries the tag of our response and the INVITE did not).
  const cseqMethod = method === 'INVITE' ? 'INVITE' : request.cseq.method;
  return [
    '2543',
    request.uri.toString(),
    request.fromTag ?? '',
    request.callId,
    request.cseq.seq,
    cseqMethod,
    via.sentBy.toLowerCase(),
    via.branch ?? '',
  ].join('|');
}

/** Client transaction key per §17.1.3: top Via branch + CSeq method. */
export function clientTransactionKey(message: SipRequest | SipResponse): string {
  const branch = message.topVia?.branch;
  if (!branch) throw new Error('message has no Via branch');
  return `${branch}|${message.cseq.method}`;
}

interface PendingCancel {
  reason?: string;
  target: TransportTarget;
}

interface Accepted2xx {
  transaction: InviteServerTransaction;
  response: SipResponse;
  timers: NodeJS.Timeout[];
}

/**
 * The transaction layer (RFC 3261 §17): owns the transaction table, creates client transactions for the TU,
 * server transactions for new requests, and routes every received message to its transaction or to the core.
 */
export class TransactionManager extends EventEmitter<TransactionManagerEvents> {
  readonly timers: TimerSettings;
  private readonly log: SipLogger;
  private readonly autoTrying: boolean;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly pendingCancels = new Map<InviteClientTransaction, PendingCancel>();
  private readonly accepted2xx = new Map<string, Accepted2xx>();
  /** Where each INVITE went, so its CANCEL follows it (§9.1). */
  private readonly pendingCancelTargets = new WeakMap<InviteClientTransaction, TransportTarget>();
  private readonly onRequest = (request: SipRequest, source: MessageSource) =>
    this.receiveRequest(request, source);
  private readonly onResponse = (response: SipResponse, source: MessageSource) =>
    this.receiveResponse(response, source);

  constructor(
    readonly transport: TransportLayer,
    options: TransactionManagerOptions = {},
  ) {
    super();
    this.timers = { ...DEFAULT_TIMERS, ...options.timers };
    this.log = options.logger ?? silentLogger;
    this.autoTrying = options.autoTrying ?? true;
    transport.on('request', this.onRequest);
    transport.on('response', this.onResponse);
  }

  /** Number of live client and server transactions. */
  get size(): { client: number; server: number } {
    return { client: this.clients.size, server: this.servers.size };
  }

  // ------------------------------------------------------------------------------------------ client side

  /**
   * Sends a request in a new client transaction (INVITE or non-INVITE by method). A top Via with a fresh
   * branch is added when the request has none. Listen to `response` (including a synthesized 408 on timeout
   * and 503 on transport error) and `failed` on the returned transaction.
   */
  sendRequest(request: SipRequest, target: TransportTarget): ClientTransaction {
    if (request.method === 'ACK') throw new Error('ACK is not sent in a transaction: use sendAck');
    const listener =
      (target.listenerId && this.transport.getListeners().find((l) => l.id === target.listenerId)) ||
      this.transport.selectListener(target.transport, target.address);
    if (!listener) throw new Error(`no ${target.transport} listener for ${target.address}`);
    ensureTopVia(request, listener);
    const key = clientTransactionKey(request);
    if (this.clients.has(key)) throw new Error(`a client transaction with branch ${key} already exists`);
    // Retransmissions and the ACK/CANCEL follow the first send onto the same connection.
    const flow: TransportTarget = { ...target };
    const transport = this.transport;
    // Methods, not arrows bound to names: under esbuild's keepNames (tsx, our bundle) every named arrow
    // created costs a run-time name definition (docs/performance.md, "What a name made at run time
    // costs").
    const common = {
      id: key,
      request,
      reliable: isReliable(target.transport),
      timers: this.timers,
      async send(message: SipRequest) {
        const result: SendResult = await transport.send(message, flow);
        if (result.connectionId) flow.connectionId = result.connectionId;
      },
      buildLocalResponse: localResponse,
    };
    const tx =
      request.method === 'INVITE'
        ? new InviteClientTransaction({ ...common, buildAck: createNon2xxAck })
        : new NonInviteClientTransaction(common);
    this.clients.set(key, tx);
    tx.on('terminated', () => {
      this.clients.delete(key);
      if (tx instanceof InviteClientTransaction) this.pendingCancels.delete(tx);
    });
    if (tx instanceof InviteClientTransaction) {
      tx.on('response', (res) => {
        // §9.1: a CANCEL requested before any provisional response goes out once one arrives.
        const pending = this.pendingCancels.get(tx);
        if (pending && res.status < 200) {
          this.pendingCancels.delete(tx);
          this.sendCancelNow(tx, pending.target, pending.reason);
        }
        if (res.status >= 200) this.pendingCancels.delete(tx);
      });
      this.pendingCancelTargets.set(tx, flow);
    }
    this.log.debug({ event: 'transaction_client_created', id: key, method: request.method });
    tx.start();
    return tx;
  }

  /**
   * Cancels a pending INVITE (§9.1): sends CANCEL now when a provisional response has arrived, later when
   * one arrives, and not at all once a final response came. Returns the CANCEL's transaction when sent now.
   */
  cancel(invite: InviteClientTransaction, reason?: string): NonInviteClientTransaction | undefined {
    const target = this.pendingCancelTargets.get(invite);
    if (!target) throw new Error('not an INVITE client transaction of this manager');
    if (invite.state === 'calling') {
      this.pendingCancels.set(invite, { target, reason });
      return undefined;
    }
    if (invite.state !== 'proceeding') return undefined;
    return this.sendCancelNow(invite, target, reason);
  }

  private sendCancelNow(
    invite: InviteClientTransaction,
    target: TransportTarget,
    reason?: string,
  ): NonInviteClientTransaction {
    const cancel = createCancel(invite.request);
    if (reason) cancel.appendHeader('Reason', reason);
    return this.sendRequest(cancel, target) as NonInviteClientTransaction;
  }

  /** Sends an ACK for a 2xx (§13.2.2.4): end-to-end, outside any transaction. Adds a Via when missing. */
  async sendAck(ack: SipRequest, target: TransportTarget): Promise<SendResult> {
    const listener = this.transport.selectListener(target.transport, target.address);
    if (listener) ensureTopVia(ack, listener);
    return this.transport.send(ack, target);
  }

  // ------------------------------------------------------------------------------------------ server side

  /**
   * Sends a 2xx to an INVITE as a UAS core (§13.3.1.4): through the server transaction (RFC 6026 Accepted),
   * retransmitted at T1 doubling to T2 over UDP until the ACK arrives; `ackTimeout` after 64*T1 without one.
   */
  acceptInvite(transaction: InviteServerTransaction, response: SipResponse): void {
    if (response.status < 200 || response.status >= 300) throw new Error('acceptInvite needs a 2xx response');
    transaction.respond(response);
    const key = ackKey(response);
    const durations = timerDurations(this.timers, transaction.reliable);
    const entry: Accepted2xx = { transaction, response, timers: [] };
    this.accepted2xx.get(key)?.timers.forEach(clearTimeout);
    this.accepted2xx.set(key, entry);
    if (!transaction.reliable) {
      let interval = durations.G;
      const resend = () => {
        if (this.accepted2xx.get(key) !== entry || transaction.state !== 'accepted') return;
        transaction.respond(response);
        interval = Math.min(2 * interval, this.timers.t2);
        entry.timers[0] = setTimeout(resend, interval);
      };
      entry.timers[0] = setTimeout(resend, interval);
    }
    entry.timers[1] = setTimeout(() => {
      if (this.accepted2xx.get(key) !== entry) return;
      entry.timers.forEach(clearTimeout);
      this.accepted2xx.delete(key);
      this.emit('ackTimeout', transaction, response);
    }, durations.H);
  }

  private receiveRequest(request: SipRequest, source: MessageSource): void {
    let key: string;
    try {
      key = serverTransactionKey(request);
    } catch {
      return;
    }
    if (request.method === 'ACK') {
      this.receiveAck(request, key, source);
      return;
    }
    const existing = this.findServer(key, request);
    if (existing) {
      // §17.2.3: a retransmission goes to its transaction, never to the TU.
      existing.receiveRequest(request);
      return;
    }
    if (request.method === 'CANCEL') {
      this.receiveCancel(request, key, source);
      return;
    }
    const tx = this.createServerTransaction(request, key, source);
    this.emit('request', request, tx, source);
  }

  private createServerTransaction(
    request: SipRequest,
    receivedKey: string,
    source: MessageSource,
  ): ServerTransaction {
    // The key is made of pieces of the request's text and would keep all of it alive for as long as the
    // transaction is kept (32 s of Timer J or L over UDP, long after the request itself is let go).
    const key = detached(receivedKey);
    const common = {
      id: key,
      request,
      reliable: isReliable(source.transport),
      timers: this.timers,
      send: this.responder(source),
      source,
    };
    const tx =
      request.method === 'INVITE'
        ? new InviteServerTransaction({
            ...common,
            buildTrying: this.autoTrying ? tryingFor(request) : undefined,
          })
        : new NonInviteServerTransaction(common);
    this.servers.set(key, tx);
    tx.on('terminated', () => {
      if (this.servers.get(key) === tx) this.servers.delete(key);
    });
    this.log.debug({ event: 'transaction_server_created', id: key, method: request.method });
    return tx;
  }

  /**
   * Sends a server transaction's responses to where its request came from. Returned, not declared in
   * an object literal: under tsx (which keeps function names) a named closure per transaction also
   * costs a `defineProperty`, 0.9 % of a REGISTER's CPU in the profile.
   */
  private responder(source: MessageSource): TransactionSender<SipResponse> {
    return (response) => this.transport.sendResponse(response, source);
  }

  private findServer(key: string, request: SipRequest): ServerTransaction | undefined {
    const tx = this.servers.get(key);
    if (!tx || key.startsWith('2543|') === false) return tx;
    // RFC 2543 matching also requires the To tag to match: the request's (retransmission) or, for an ACK,
    // the tag of the response the transaction sent.
    const expected = request.method === 'ACK' ? tx.lastResponse?.toTag : tx.requestToTag;
    return request.toTag === expected ? tx : undefined;
  }

  private receiveAck(ack: SipRequest, key: string, source: MessageSource): void {
    const tx = this.findServer(key, ack);
    if (tx instanceof InviteServerTransaction && tx.state !== 'accepted') {
      // §17.2.1: the ACK for a non-2xx final belongs to the transaction.
      tx.receiveRequest(ack);
      return;
    }
    // The ACK for a 2xx (new branch, or RFC 6026 Accepted) goes to the TU; it also stops 2xx retransmission.
    const acceptedKey = ackKey(ack);
    const accepted = this.accepted2xx.get(acceptedKey);
    if (accepted) {
      accepted.timers.forEach(clearTimeout);
      this.accepted2xx.delete(acceptedKey);
      accepted.transaction.acknowledged();
    }
    this.emit('ack', ack, source, accepted?.transaction);
  }

  private receiveCancel(cancel: SipRequest, key: string, source: MessageSource): void {
    const cancelTx = this.createServerTransaction(cancel, key, source);
    // §9.2: the CANCEL matches the INVITE with the same Via branch/sent-by (or RFC 2543 identifiers).
    let inviteKey: string;
    try {
      inviteKey = serverTransactionKey(cancel, 'INVITE');
    } catch {
      cancelTx.respond(createResponse(cancel, 400));
      return;
    }
    const invite = this.servers.get(inviteKey);
    if (!(invite instanceof InviteServerTransaction)) {
      // §9.2: no matching transaction -> 481.
      cancelTx.respond(createResponse(cancel, 481));
      return;
    }
    // §9.2: the CANCEL itself is answered 200 whatever the INVITE's state; the To tag is the INVITE's one.
    cancelTx.respond(createResponse(cancel, 200, { toTag: invite.lastResponse?.toTag }));
    if (invite.state === 'proceeding') this.emit('cancel', cancel, invite, source);
  }

  private receiveResponse(response: SipResponse, source: MessageSource): void {
    let key: string;
    try {
      key = clientTransactionKey(response);
    } catch {
      return;
    }
    const tx = this.clients.get(key);
    if (tx) tx.receiveResponse(response);
    else this.emit('strayResponse', response, source);
  }

  /** Stops listening to the transport and terminates every transaction (timers included). */
  close(): void {
    this.transport.off('request', this.onRequest);
    this.transport.off('response', this.onResponse);
    for (const tx of [...this.clients.values(), ...this.servers.values()]) tx.terminate();
    for (const a of this.accepted2xx.values()) a.timers.forEach(clearTimeout);
    this.accepted2xx.clear();
  }
}

/** The automatic 100 Trying of an INVITE server transaction (RFC 3261 §17.2.1), built when it is due. */
function tryingFor(request: SipRequest): () => SipResponse {
  return () => createResponse(request, 100);
}

/** Correlates a 2xx to INVITE with its ACK: Call-ID, CSeq number, To tag (the dialog's local tag). */
function ackKey(message: SipRequest | SipResponse): string {
  return `${message.callId}|${message.cseq.seq}|${message.toTag ?? ''}|${message.fromTag ?? ''}`;
}

/** The 408 or 503 a client transaction gives its TU when no final response comes (§8.1.3.1, §17.1.1.2). */
function localResponse(request: SipRequest, status: 408 | 503): SipResponse {
  return createResponse(request, status, { toTag: request.toTag });
}
