import {
  createCancel,
  createResponse,
  generateBranch,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from '@switchboard/sip';
import type {
  Flow,
  IncomingTransaction,
  OutgoingTransaction,
  Sent,
  SipStackPort,
  StackListener,
} from '../src/bridge/sip-stack.ts';

/**
 * An in-process stand-in for the network side of the engine, for bridge tests that drive the real
 * drachtio-srf: the test plays the far end by injecting requests and responses and reading what the engine
 * "sent". Parsing and building use the real SIP library; only the sockets and timers are left out.
 */

export const LISTENER: StackListener = {
  transport: 'udp',
  host: '127.0.0.1',
  port: 5060,
  advertisedAddress: '192.0.2.1',
  advertisedPort: 5060,
};
export const PEER: Flow = {
  transport: 'udp',
  localAddress: '127.0.0.1',
  localPort: 5060,
  remoteAddress: '127.0.0.1',
  remotePort: 5070,
};

export interface FarEndTransaction {
  request: SipRequest;
  responses: SipResponse[];
  terminated: boolean;
}

export interface SentRequest {
  request: SipRequest;
  nextHop: string | undefined;
  /** Delivers a response from the far end to this request. */
  respond(raw: string): void;
  fail(reason: 'timeout' | 'transport-error'): void;
  cancels: SipRequest[];
}

export class LoopbackStack implements SipStackPort {
  readonly listeners = [LISTENER];
  /** No proxying in process: proxy operations answer as a stack without a proxy does. */
  readonly proxy = undefined;
  readonly received: FarEndTransaction[] = [];
  readonly sent: SentRequest[] = [];
  readonly acks: SipRequest[] = [];
  private requestHandler: (txn: IncomingTransaction) => void = () => {};
  private ackHandler: (ack: SipRequest, raw: string, flow: Flow) => void = () => {};
  private strayHandler: (response: SipResponse, flow: Flow) => void = () => {};
  private cancelHandler: (cancel: SipRequest, raw: string, flow: Flow, invite: IncomingTransaction) => void =
    () => {};
  private ackTimeoutHandler: (invite: IncomingTransaction) => void = () => {};
  /** INVITE server transactions by branch, still open to CANCEL (what the transaction layer keeps). */
  private readonly invites = new Map<string, { txn: IncomingTransaction; far: FarEndTransaction }>();

  onRequest(handler: (txn: IncomingTransaction) => void): void {
    this.requestHandler = handler;
  }
  onAck(handler: (ack: SipRequest, raw: string, flow: Flow) => void): void {
    this.ackHandler = handler;
  }
  onStrayResponse(handler: (response: SipResponse, flow: Flow) => void): void {
    this.strayHandler = handler;
  }
  onCancel(
    handler: (cancel: SipRequest, raw: string, flow: Flow, invite: IncomingTransaction) => void,
  ): void {
    this.cancelHandler = handler;
  }
  onAckTimeout(handler: (invite: IncomingTransaction) => void): void {
    this.ackTimeoutHandler = handler;
  }

  /** Timer H of the 2xx sent in this far-end transaction fires (no ACK came). */
  expireAck(far: FarEndTransaction): void {
    for (const entry of this.invites.values()) if (entry.far === far) this.ackTimeoutHandler(entry.txn);
    for (const entry of this.answered) if (entry.far === far) this.ackTimeoutHandler(entry.txn);
  }
  private readonly answered: Array<{ txn: IncomingTransaction; far: FarEndTransaction }> = [];

  /** The far end sends a request; returns its transaction so the test can read the engine's responses. */
  inject(raw: string, flow: Flow = PEER): FarEndTransaction {
    const request = parseMessage(raw) as SipRequest;
    const far: FarEndTransaction = { request, responses: [], terminated: false };
    if (request.method === 'ACK') {
      this.ackHandler(request, raw, flow);
      return far;
    }
    this.received.push(far);
    if (request.method === 'CANCEL') {
      // As the transaction layer does (RFC 3261 §9.2): 200 to the CANCEL, then the TU hears of it.
      const invite = this.invites.get(request.topVia?.branch ?? '');
      const response = createResponse(request, invite ? 200 : 481, {
        toTag: invite?.far.responses.at(-1)?.toTag,
      });
      far.responses.push(response);
      if (invite) this.cancelHandler(request, raw, flow, invite.txn);
      return far;
    }
    const terminatedListeners: Array<() => void> = [];
    const txn: IncomingTransaction = {
      request,
      flow,
      raw,
      respond: async (response) => {
        // As the server transaction does (RFC 3261 §17.2): one final response, then only 2xx again (RFC 6026).
        const final = far.responses.find((r) => r.status >= 200);
        if (final && response.status >= 200 && !(final.status < 300 && response.status < 300))
          throw new Error(`cannot send ${response.status} after ${final.status}`);
        far.responses.push(response);
        if (response.status >= 200) {
          this.invites.delete(request.topVia?.branch ?? '');
          if (request.method === 'INVITE') this.answered.push({ txn, far });
        }
        return { raw: response.toString(), flow };
      },
      relay: async (response) => {
        far.responses.push(response);
        return { raw: response.toString(), flow };
      },
      onTerminated: (listener) => terminatedListeners.push(listener),
    };
    if (request.method === 'INVITE') {
      // INVITE server transactions send 100 Trying by themselves.
      far.responses.push(createResponse(request, 100));
      this.invites.set(request.topVia?.branch ?? '', { txn, far });
    }
    this.requestHandler(txn);
    return far;
  }

  /** The far end retransmits a 2xx after the ACK. */
  injectStrayResponse(raw: string, flow: Flow = PEER): void {
    this.strayHandler(parseMessage(raw) as SipResponse, flow);
  }

  async sendRequest(request: SipRequest, nextHop?: string): Promise<OutgoingTransaction> {
    request.prependHeader(
      'Via',
      `SIP/2.0/UDP ${LISTENER.advertisedAddress}:${LISTENER.port};branch=${generateBranch()};rport`,
    );
    const sent: Sent = { raw: request.toString(), flow: PEER };
    const responseListeners: Array<(response: SipResponse, raw: string, flow: Flow) => void> = [];
    const record: SentRequest = {
      request,
      nextHop,
      cancels: [],
      respond: (raw) => {
        const response = parseMessage(raw) as SipResponse;
        for (const l of responseListeners) l(response, raw, PEER);
      },
      fail: (reason) => {
        // The transaction makes up the final response (RFC 3261 §8.1.3.1).
        const response = createResponse(request, reason === 'timeout' ? 408 : 503);
        for (const l of responseListeners) l(response, response.toString(), PEER);
      },
    };
    this.sent.push(record);
    return {
      request,
      sent,
      onResponse: (l) => responseListeners.push(l),
      cancel: async (reason) => {
        const cancel = createCancel(request);
        if (reason) cancel.appendHeader('Reason', reason);
        record.cancels.push(cancel);
        return { raw: cancel.toString(), flow: PEER };
      },
    };
  }

  async sendAck(ack: SipRequest): Promise<Sent> {
    ack.prependHeader(
      'Via',
      `SIP/2.0/UDP ${LISTENER.advertisedAddress}:${LISTENER.port};branch=${generateBranch()};rport`,
    );
    this.acks.push(ack);
    return { raw: ack.toString(), flow: PEER };
  }

  listenerFor(): StackListener | undefined {
    return LISTENER;
  }

  async close(): Promise<void> {}
}

/** Builds a far-end response to a request the engine sent, copying the transaction headers. */
export function farResponse(
  request: SipRequest,
  status: number,
  reason: string,
  extra: string[] = [],
  toTag = 'far-tag',
): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const via of request.getHeaders('via')) lines.push(`Via: ${via}`);
  lines.push(`From: ${request.getHeader('from')}`);
  const to = request.getHeader('to')!;
  lines.push(`To: ${status > 100 && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to}`);
  lines.push(`Call-ID: ${request.getHeader('call-id')}`);
  lines.push(`CSeq: ${request.getHeader('cseq')}`);
  lines.push(...extra);
  lines.push('Content-Length: 0', '', '');
  return lines.join('\r\n');
}
