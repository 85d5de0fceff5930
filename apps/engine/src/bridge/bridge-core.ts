import { randomUUID } from 'node:crypto';
import { createResponse, type ProxyContext, type ReliableProvisional } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { AppConnection } from '../admin/app-connection.ts';
import type { AppRegistry } from '../admin/app-registry.ts';
import type { RequestHandler } from '../routing/request-handlers.ts';
import { cdrEventMessage, type SipMessageMeta } from '../wire/protocol.ts';
import { AppDialogs } from './app-dialogs.ts';
import type { Flow, IncomingTransaction, OutgoingTransaction, Sent, SipStackPort } from './sip-stack.ts';

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
  /** How long a subscription dialog outlives its expiry, in seconds (default 32; tests use 0). */
  subscriptionGraceSeconds?: number;
  /** drachtio-server's request handlers: where new requests go instead of the connected apps. */
  requestHandlers?: RequestHandler[];
  /** Connects out to an app listening with `Srf.listen` and resolves once it has authenticated. */
  connectApp?: (host: string, port: number, tls: boolean) => Promise<AppConnection>;
}

/** An incoming request handed to an app and not yet finally answered. */
export interface PendingIncoming {
  id: string;
  txn: IncomingTransaction;
  app: AppConnection;
  localTag: string;
  timer: NodeJS.Timeout;
  /** The dialog the request belongs to (in-dialog) or the one its answer created. */
  dialogId: string | undefined;
}

/** A request an app sent and whose final response has not come yet. */
export interface PendingOutgoing {
  id: string;
  txn: OutgoingTransaction;
  app: AppConnection;
  dialogId: string | undefined;
  nextHop: string | undefined;
  finalReceived: boolean;
}

/**
 * The state the bridge's sides share (app side, network side, proxy operations, dialog usages): pending
 * transactions both ways, the dialogs, the proxies and request-handler lookups in flight, and the small
 * helpers each side needs (cdr events, message metadata, engine-made answers).
 */
export class BridgeCore {
  readonly dialogs = new AppDialogs();
  readonly incoming = new Map<string, PendingIncoming>();
  readonly outgoing = new Map<string, PendingOutgoing>();
  /** Pending incoming requests by transaction (a CANCEL names its INVITE's transaction). */
  readonly incomingByTxn = new Map<IncomingTransaction, PendingIncoming>();
  /** Dialogs whose 2xx waits for its first ACK (the app gets that one ACK), by the INVITE's transaction. */
  readonly awaitingAck = new Map<IncomingTransaction, string>();
  /** Requests being proxied, by their server transaction (a CANCEL cancels the branches). */
  readonly proxies = new Map<IncomingTransaction, ProxyContext>();
  /** New requests waiting for their request handler's answer, by server transaction (a CANCEL ends them). */
  readonly routing = new Map<IncomingTransaction, { cancelled: boolean }>();
  /** Reliable provisionals waiting for PRACK, by pending incoming INVITE. */
  readonly reliable = new Map<string, ReliableProvisional>();
  readonly log: Logger;
  readonly stack: SipStackPort;
  readonly t1: number;
  readonly minSE: number;

  constructor(readonly options: BridgeOptions) {
    this.log = options.logger;
    this.stack = options.stack;
    this.t1 = options.t1Ms ?? 500;
    this.minSE = options.minSessionExpires ?? 90;
  }

  /** Stops every timer (engine shutdown). */
  close(): void {
    for (const p of this.incoming.values()) clearTimeout(p.timer);
    for (const r of this.reliable.values()) r.stop();
    this.reliable.clear();
    this.dialogs.clear();
    this.incoming.clear();
    this.incomingByTxn.clear();
    this.awaitingAck.clear();
  }

  /** A cdr event goes to one of the apps that routed its verb, in turn, as drachtio-server sends it. */
  cdr(event: Parameters<typeof cdrEventMessage>[0], raw: string): void {
    this.options.registry.select(`cdr:${event.kind}`)?.send(cdrEventMessage(event, raw));
  }

  listenerOf(flow: Flow) {
    return (
      this.stack.listeners.find((l) => l.transport === flow.transport && l.port === flow.localPort) ??
      this.stack.listeners.find((l) => l.transport === flow.transport)
    );
  }

  networkMeta(flow: Flow, raw: string): SipMessageMeta {
    return {
      source: 'network',
      bytes: Buffer.byteLength(raw),
      protocol: flow.transport,
      address: flow.remoteAddress,
      port: flow.remotePort,
    };
  }

  sentMeta(sent: Sent): SipMessageMeta {
    return {
      source: 'application',
      bytes: Buffer.byteLength(sent.raw),
      protocol: sent.flow.transport,
      address: sent.flow.localAddress,
      port: sent.flow.localPort,
    };
  }

  /** A bug or a surprise in one message must not take the engine down. */
  guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, what }, 'failed to process SIP message');
    }
  }

  /** Keeps an incoming request handed to an app until its final answer, with the app's time to answer. */
  track(
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
  forgetRequest(txn: IncomingTransaction): void {
    const pending = this.incomingByTxn.get(txn);
    if (pending) {
      this.stopReliable(pending.id);
      this.finish(pending);
    }
    this.routing.delete(txn);
    this.proxies.delete(txn);
  }

  finish(pending: PendingIncoming): void {
    clearTimeout(pending.timer);
    this.incoming.delete(pending.id);
    this.incomingByTxn.delete(pending.txn);
  }

  /** The engine answers an incoming request itself (CANCEL, timeout, app gone). */
  async answer(pending: PendingIncoming, status: number, reason: string): Promise<void> {
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

  stopReliable(pendingId: string): void {
    this.reliable.get(pendingId)?.stop();
    this.reliable.delete(pendingId);
  }

  /** Stops waiting for the first ACK of a dialog's 2xx; true when it was being waited for. */
  forgetAwaitingAck(dialogId: string): boolean {
    for (const [txn, id] of this.awaitingAck) {
      if (id === dialogId) {
        this.awaitingAck.delete(txn);
        return true;
      }
    }
    return false;
  }
}
