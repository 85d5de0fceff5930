import type { SipRequest, SipResponse } from '@switchboard/sip';
import type { SipTransport } from '../config.ts';

/**
 * What the drachtio bridge needs from the SIP stack (transports + transaction layer of @switchboard/sip).
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

/** A listener the engine sends and receives on, with the address it advertises. */
export interface StackListener {
  transport: SipTransport;
  host: string;
  port: number;
  advertisedAddress: string;
}

/** An incoming request with its server transaction (retransmissions are absorbed below this line). */
export interface IncomingTransaction {
  readonly request: SipRequest;
  readonly flow: Flow;
  /** The raw bytes as received (handed to the app unchanged). */
  readonly raw: string;
  /** Sends a response through the transaction; resolves with what went on the wire. */
  respond(response: SipResponse): Promise<Sent>;
  /** Called when the transaction ends without a final response having been accepted (timeout, transport). */
  onTerminated(listener: () => void): void;
}

/** An outgoing request's client transaction. */
export interface OutgoingTransaction {
  /** The request as sent (with the Via the transport layer added). */
  readonly request: SipRequest;
  readonly sent: Sent;
  onResponse(listener: (response: SipResponse, raw: string, flow: Flow) => void): void;
  /** Timer B/F fired or the transport failed: the bridge synthesises 408/503 for the app. */
  onFailure(listener: (reason: 'timeout' | 'transport-error') => void): void;
  /** Sends this CANCEL (built from the request, same branch) in its own transaction; its 200 is not reported. */
  cancel(cancel: SipRequest): Promise<Sent>;
}

export interface Sent {
  raw: string;
  flow: Flow;
}

export interface SipStackPort {
  readonly listeners: StackListener[];
  /** Every new request that is not an ACK to a 2xx and not a retransmission. */
  onRequest(handler: (txn: IncomingTransaction) => void): void;
  /** ACKs to 2xx responses (they have no transaction, RFC 3261 §17.1.1.3). */
  onAck(handler: (ack: SipRequest, raw: string, flow: Flow) => void): void;
  /** 2xx retransmissions to INVITEs whose client transaction has ended (the bridge re-sends the ACK). */
  onStrayResponse(handler: (response: SipResponse, flow: Flow) => void): void;
  /**
   * Sends a request in a new client transaction. The stack adds the Via, resolves the destination (the first
   * Route, else `nextHop`, else the Request-URI, RFC 3263) and picks the listener.
   */
  sendRequest(request: SipRequest, nextHop?: string): Promise<OutgoingTransaction>;
  /** Sends an ACK to a 2xx (no transaction): the stack adds a fresh Via and resolves as for sendRequest. */
  sendAck(ack: SipRequest, nextHop?: string): Promise<Sent>;
  /** The listener a request to this URI would leave through (for Contact and From when the app leaves them out). */
  listenerFor(uri: string, nextHop?: string): StackListener | undefined;
  close(): Promise<void>;
}
