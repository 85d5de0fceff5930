import type {
  ServerTransaction,
  SipRequest,
  SipResponse,
  StatefulProxy,
  TransportTarget,
} from '@switchboard/sip';
import type { SipTransport } from '../config.ts';

/**
 * What the drachtio bridge needs from the SIP stack (transport and transaction layers of @switchboard/sip).
 * The bridge speaks in these terms only; sip-stack-adapter.ts implements them on the library.
 */

/** Where a message came from or left through. */
export interface Flow {
  transport: SipTransport;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** A listener the engine sends and receives on, with the address and port it advertises. */
export interface StackListener {
  transport: SipTransport;
  host: string;
  port: number;
  advertisedAddress: string;
  advertisedPort: number;
}

/**
 * An incoming request with its server transaction. Retransmissions are absorbed below this line, INVITE
 * transactions send 100 Trying by themselves, a 2xx to INVITE is retransmitted until its ACK (RFC 6026).
 */
export interface IncomingTransaction {
  readonly request: SipRequest;
  readonly flow: Flow;
  /** The request as received (with received/rport added to the top Via), handed to the app. */
  readonly raw: string;
  /**
   * Sends a response through the transaction; resolves with what went on the wire. A final response carrying
   * the app's reply mode header (reply-mode.ts) is sent statelessly or not at all.
   */
  respond(response: SipResponse): Promise<Sent>;
  /** Sends a response as a proxy relays it (§16.7): no UAS handling of 2xx (the ACK is end-to-end). */
  relay(response: SipResponse): Promise<Sent>;
  /** Called once when the transaction ends, whatever the reason. */
  onTerminated(listener: () => void): void;
}

/** An outgoing request's client transaction. */
export interface OutgoingTransaction {
  /** The request as sent (with the Via the stack added). */
  readonly request: SipRequest;
  readonly sent: Sent;
  /**
   * Responses, including the 408 (timeout) or 503 (transport error) the transaction makes up when no final
   * response comes (RFC 3261 §8.1.3.1, §17.1.1.2).
   */
  onResponse(listener: (response: SipResponse, raw: string, flow: Flow) => void): void;
  /** Cancels the INVITE (RFC 3261 §9.1): at once after a provisional, else as soon as one arrives. */
  cancel(reason?: string): Promise<Sent>;
}

export interface Sent {
  readonly raw: string;
  readonly flow: Flow;
}

export interface SendOptions {
  /** Forwarding as a proxy: our Via goes on top of the ones the request already carries (§16.6 step 8). */
  proxy?: boolean;
}

/** packages/sip's stateful proxy (RFC 3261 §16) on the stack's transactions, for proxy operations. */
export interface StackProxy {
  readonly core: StatefulProxy;
  /** The server transaction under an incoming request: the proxy forwards from it and answers through it. */
  serverTransactionOf(txn: IncomingTransaction): ServerTransaction | undefined;
  /** The flow an exchange with a branch's next hop runs on (the app's branch reports name it). */
  flowTo(target: TransportTarget): Flow;
}

export interface SipStackPort {
  readonly listeners: StackListener[];
  /** The stack's stateful proxy; undefined on a stack that cannot proxy (the in-process test stand-in). */
  readonly proxy: StackProxy | undefined;
  /** Every new request that is not an ACK, a CANCEL or a retransmission. */
  onRequest(handler: (txn: IncomingTransaction) => void): void;
  /**
   * A CANCEL matching an INVITE still unanswered. The stack has answered the CANCEL with 200 already
   * (RFC 3261 §9.2); the bridge answers the INVITE.
   */
  onCancel(handler: (cancel: SipRequest, raw: string, flow: Flow, invite: IncomingTransaction) => void): void;
  /** ACKs to 2xx responses (they have no transaction, RFC 3261 §17.1.1.3). */
  onAck(handler: (ack: SipRequest, raw: string, flow: Flow) => void): void;
  /** A 2xx we sent was not ACKed within 64*T1 (RFC 3261 §13.3.1.4). */
  onAckTimeout(handler: (invite: IncomingTransaction) => void): void;
  /** 2xx retransmissions to INVITEs whose client transaction has ended (the bridge re-sends the ACK). */
  onStrayResponse(handler: (response: SipResponse, flow: Flow) => void): void;
  /**
   * Sends a request in a new client transaction. The stack adds the Via, resolves the destination (the first
   * Route, else `nextHop`, else the Request-URI, RFC 3263) and picks the listener.
   */
  sendRequest(request: SipRequest, nextHop?: string, options?: SendOptions): Promise<OutgoingTransaction>;
  /** Sends an ACK to a 2xx (no transaction): the stack adds a fresh Via and resolves as for sendRequest. */
  sendAck(ack: SipRequest, nextHop?: string, options?: SendOptions): Promise<Sent>;
  /** The listener a request to this URI would leave through (for Contact and From when the app leaves them out). */
  listenerFor(uri: string, nextHop?: string): StackListener | undefined;
  close(): Promise<void>;
}
