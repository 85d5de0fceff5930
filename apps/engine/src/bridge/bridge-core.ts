import { type ClientRequest, type ProxyContext, type ServerRequest, UserAgentCore } from '@switchboard/sip';
import type { Logger } from 'pino';
import type { AppConnection } from '../admin/app-connection.ts';
import type { AppRegistry } from '../admin/app-registry.ts';
import type { RequestHandler } from '../routing/request-handlers.ts';
import { cdrEventMessage, type SipMessageMeta } from '../wire/protocol.ts';
import { type AppDialog, type AppDialogState, forgetAppDialogId } from './app-dialogs.ts';
import { EarlyNotifies } from './early-notifies.ts';
import { LocalHandlers } from './local-handlers.ts';
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
  /**
   * Source addresses of the other nodes of a cluster (SIP_CLUSTER_NODES): only their requests are sent
   * out on the flow their Route names (cluster-forward.ts).
   */
  clusterPeers?: ReadonlySet<string>;
  /** Connects out to an app listening with `Srf.listen` and resolves once it has authenticated. */
  connectApp?: (host: string, port: number, tls: boolean) => Promise<AppConnection>;
}

/** An incoming request handed to an app and not yet finally answered (the UA core keeps it). */
export type PendingIncoming = ServerRequest<IncomingTransaction, AppConnection, AppDialogState>;

/** A request an app sent and whose final response has not come yet (the UA core keeps it). */
export type PendingOutgoing = ClientRequest<OutgoingTransaction, AppConnection, AppDialogState>;

export type BridgeUserAgent = UserAgentCore<
  IncomingTransaction,
  OutgoingTransaction,
  AppConnection,
  AppDialogState
>;

/**
 * The state the bridge's sides share (app side, network side, proxy operations, dialog usages): the UA core
 * (dialogs, requests in flight both ways), the proxies and request-handler lookups in flight, and the small
 * helpers each side needs (cdr events, message metadata, engine-made answers).
 */
export class BridgeCore {
  /**
   * packages/sip's user-agent core: the dialogs, the requests in flight both ways, the 2xx waiting for ACK,
   * reliable provisionals and session timers. The bridge only translates between it and the apps.
   */
  readonly ua: BridgeUserAgent;
  /** Requests being proxied, by their server transaction (a CANCEL cancels the branches). */
  readonly proxies = new Map<IncomingTransaction, ProxyContext>();
  /** New requests waiting for their request handler's answer, by server transaction (a CANCEL ends them). */
  readonly routing = new Map<IncomingTransaction, { cancelled: boolean }>();
  /** NOTIFYs that overtook the 2xx to the SUBSCRIBE asking for them (RFC 6665 §4.1.2.4). */
  readonly earlyNotifies = new EarlyNotifies();
  /** Handlers in this process that take new requests of their method before any app (local-handlers.ts). */
  readonly local = new LocalHandlers();
  readonly log: Logger;
  readonly stack: SipStackPort;
  readonly t1: number;
  readonly minSE: number;

  constructor(
    readonly options: BridgeOptions,
    /** A request for no dialog of ours that the bridge takes anyway (proxied in-dialog requests). */
    unknownDialog: (core: BridgeCore, txn: IncomingTransaction) => boolean = () => false,
  ) {
    this.log = options.logger;
    this.stack = options.stack;
    this.t1 = options.t1Ms ?? 500;
    this.minSE = options.minSessionExpires ?? 90;
    this.ua = new UserAgentCore({
      send: (txn, response) => txn.respond(response),
      t1Ms: this.t1,
      answerTimeoutMs: options.appResponseTimeoutMs,
      // drachtio keeps one dialog per request, named by its Call-ID and the UAC's From tag.
      forks: 'per-request',
      unknownDialog: (txn) => unknownDialog(this, txn),
      answerTimedOut: (pending) =>
        this.log.warn(
          { app: pending.owner.id, method: pending.request.method },
          'app did not answer in time',
        ),
      dialogTerminated: (dialog) => {
        if (dialog.data.subscriptionTimer) clearTimeout(dialog.data.subscriptionTimer);
        // Only a live dialog answers a retransmitted 2xx with its ACK (network-side onStrayResponse); the
        // ended one stays known to its INVITE for 64*T1 (RFC 6026 §7.2) and need not hold the ACK parsed.
        dialog.data.lastAck = undefined;
        forgetAppDialogId(dialog);
      },
    });
  }

  /** Stops every timer (engine shutdown). */
  close(): void {
    this.ua.close();
    this.earlyNotifies.close();
  }

  /** A cdr event goes to one of the apps that routed its verb, in turn, as drachtio-server sends it. */
  cdr(event: Parameters<typeof cdrEventMessage>[0], raw: string | { readonly raw: string }): void {
    const app = this.options.registry.select(`cdr:${event.kind}`);
    // A transaction's or a sent message's text is printed only when an app takes the event.
    app?.send(cdrEventMessage(event, typeof raw === 'string' ? raw : raw.raw));
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
  track(txn: IncomingTransaction, app: AppConnection, dialog?: AppDialog): PendingIncoming {
    const pending = this.ua.track(txn, app, dialog);
    txn.onTerminated(() => this.ua.abandon(txn));
    return pending;
  }

  /** Forgets an incoming request whose handling failed (it is answered by handleRequestSafely). */
  forgetRequest(txn: IncomingTransaction): void {
    this.ua.abandon(txn);
    this.routing.delete(txn);
    this.proxies.delete(txn);
  }
}
