import { detached } from '../messages/detached.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';
import { parseMessage } from '../messages/parser.ts';
import type { MessageSource } from '../transport/types.ts';
import type { TimerSettings } from './timers.ts';
import { Transaction, type TransactionFailure, type TransactionSender } from './transaction.ts';

export interface ServerTransactionEvents {
  /** INVITE server only: an ACK for the final response (non-2xx in Completed, or 2xx in Accepted). */
  ack: [ack: SipRequest];
  /** Timer H fired without an ACK, or a response could not be sent (§17.2.4). */
  failed: [reason: TransactionFailure, error?: Error];
}

export interface ServerTransactionOptions {
  id: string;
  request: SipRequest;
  reliable: boolean;
  timers: TimerSettings;
  send: TransactionSender<SipResponse>;
  /** Where the request came from (transport, remote address, connection). */
  source?: MessageSource;
}

export interface InviteServerTransactionOptions extends ServerTransactionOptions {
  /** Builds the 100 Trying the transaction sends on its own (§17.2.1); omit to leave 100 to the TU. */
  buildTrying?: () => SipResponse;
}

abstract class ServerTransaction extends Transaction<ServerTransactionEvents> {
  readonly source?: MessageSource;
  /** The request's To tag, kept for RFC 2543 matching (§17.2.3) after the request is released. */
  readonly requestToTag: string | undefined;
  /** The request; null once a completed non-INVITE transaction has released it (see `request`). */
  private heldRequest: SipRequest | null;
  /** The response most recently sent (see `lastResponse`). */
  private last: SipResponse | undefined;
  /** The same response as sent on the wire (latin1: one byte per byte), once it is kept that way. */
  private lastWire: string | undefined;
  protected readonly send: TransactionSender<SipResponse>;

  constructor(options: ServerTransactionOptions, initial: 'trying' | 'proceeding') {
    super(options.id, options.reliable, options.timers, initial);
    this.heldRequest = options.request;
    const toTag = options.request.toTag;
    this.requestToTag = toTag === undefined ? undefined : detached(toTag); // outlives the request's text
    this.source = options.source;
    this.send = options.send;
  }

  /**
   * The request that created the transaction. A non-INVITE transaction over UDP releases it when it
   * reaches Completed (§17.2.2: from then on it only resends its final response), an INVITE transaction
   * when the ACK for its 2xx came (`acknowledged`), so reading it then is a bug of the caller; it throws
   * instead of keeping some 5 KB per transaction alive for the 32 s of Timer J or L.
   */
  get request(): SipRequest {
    if (this.heldRequest === null)
      throw new Error(`${this.kind} transaction ${this.id} released its request`);
    return this.heldRequest;
  }

  /**
   * The response most recently sent, resent on request retransmissions. Kept as parsed, or as its wire
   * form once the transaction only waits for retransmissions (parsed again when read, which is rare).
   */
  get lastResponse(): SipResponse | undefined {
    if (this.last !== undefined || this.lastWire === undefined) return this.last;
    return parseMessage(Buffer.from(this.lastWire, 'latin1')) as SipResponse;
  }

  set lastResponse(response: SipResponse | undefined) {
    this.last = response;
    this.lastWire = undefined;
  }

  /**
   * Keeps only what a transaction that waits for retransmissions needs (a non-INVITE in Completed,
   * §17.2.2; an acknowledged INVITE in Accepted, RFC 6026 §7.1): its final response as sent
   * (some 500 bytes instead of about 3 KB parsed, whose header values also pin the text it was parsed
   * from), and the request's To tag instead of the request (about 5 KB parsed).
   */
  protected keepOnlyForRetransmissions(): void {
    this.heldRequest = null;
    const response = this.last;
    if (response === undefined) return;
    this.lastWire = response.ensureContentLength().toBuffer().toString('latin1');
    this.last = undefined;
  }

  /** A request matched to this transaction (§17.2.3): a retransmission, or an ACK for INVITE. */
  abstract receiveRequest(request: SipRequest): void;

  /** The TU's response; throws when the state machine cannot send it (e.g. after a final response). */
  abstract respond(response: SipResponse): void;

  /**
   * Sends a final response the way a stateless UAS does (RFC 3261 §8.2.7) and ends the transaction at once:
   * no 100 Trying, no retransmission (no Timer G), no wait for an ACK or for request retransmissions (a
   * retransmitted request then starts a new transaction and is answered again, once). For challenges and
   * refusals to requests from unverified sources, so a forged source address draws one packet, not eleven.
   */
  respondStateless(response: SipResponse): void {
    if (response.status < 200) throw new Error('only a final response can be sent statelessly');
    if (this.state !== 'trying' && this.state !== 'proceeding')
      throw new Error(`cannot send ${response.status} in server transaction state ${this.state}`);
    this.lastResponse = response;
    this.send(response).catch(() => {
      // Nothing to retry and no transaction left to fail: a lost stateless answer is like a lost datagram.
    });
    this.terminate();
  }

  protected transmit(response: SipResponse): void {
    this.send(response).catch((err: Error) => this.transportError(err));
  }

  protected transportError(err: Error): void {
    if (this.state === 'terminated') return;
    // §17.2.4: a transport failure on a response is reported to the TU and the transaction ends.
    this.emit('failed', 'transport-error', err);
    this.setState('terminated');
  }
}

/** INVITE server transaction, RFC 3261 §17.2.1 (Figure 7) as updated by RFC 6026 §7.1 (Accepted state). */
export class InviteServerTransaction extends ServerTransaction {
  readonly kind = 'invite-server' as const;
  private intervalG: number;
  /** The automatic 100 Trying, while it is still due (built but not yet sent). */
  private pendingTrying?: () => SipResponse;

  constructor(options: InviteServerTransactionOptions) {
    super(options, 'proceeding');
    this.intervalG = this.durations.G;
    const buildTrying = options.buildTrying;
    if (buildTrying) {
      // §17.2.1: send 100 Trying unless the TU responds within 200 ms.
      this.pendingTrying = buildTrying;
      // A delay of 0 means "at once", as drachtio-server sends it: right after the request is handed up, before
      // any I/O, so even a TU that answers within a millisecond cannot race it (a 1 ms timer could lose).
      if (this.settings.tryingDelay === 0) queueMicrotask(() => this.sendDueTrying());
      else this.startTimer('Trying', this.settings.tryingDelay, () => this.sendDueTrying());
    }
  }

  /** The 100 Trying, unless the TU has responded meanwhile. */
  private sendDueTrying(): void {
    const buildTrying = this.pendingTrying;
    this.pendingTrying = undefined;
    if (buildTrying && this.state === 'proceeding' && !this.lastResponse) this.respond(buildTrying());
  }

  receiveRequest(request: SipRequest): void {
    const isAck = request.method === 'ACK';
    switch (this.state) {
      case 'proceeding':
        // §17.2.1: a retransmitted INVITE in Proceeding gets the most recent provisional response again.
        if (!isAck && this.lastResponse) this.transmit(this.lastResponse);
        return;
      case 'completed':
        if (isAck) {
          // §17.2.1: ACK in Completed -> Confirmed; Timer I absorbs further ACKs; G and H stop.
          this.stopTimer('G');
          this.stopTimer('H');
          this.setState('confirmed');
          this.startTimer('I', this.durations.I, () => this.setState('terminated'));
          this.emit('ack', request);
        } else if (this.lastResponse) {
          // §17.2.1: a retransmitted INVITE in Completed gets the final response again.
          this.transmit(this.lastResponse);
        }
        return;
      case 'accepted':
        // RFC 6026 §7.1: INVITE retransmissions are absorbed; an ACK matching here goes to the TU.
        if (isAck) this.emit('ack', request);
        return;
      default:
        // Confirmed absorbs ACKs (§17.2.1); Terminated ignores everything.
        return;
    }
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (this.state === 'accepted' && status >= 200 && status < 300) {
      // RFC 6026 §7.1: the TU's 2xx retransmissions (and other 2xx) are sent while Accepted.
      this.lastResponse = response;
      this.transmit(response);
      return;
    }
    if (this.state !== 'proceeding') {
      throw new Error(`cannot send ${status} in INVITE server transaction state ${this.state}`);
    }
    this.stopTimer('Trying');
    const trying = this.pendingTrying;
    this.pendingTrying = undefined;
    // §17.2.1 lets a quick answer go without the 100; only a quick refusal does here. A provisional or a 2xx
    // is preceded by the 100 that was due, as drachtio-server always sends it: peers (sipp scenarios among
    // them) stop retransmitting the INVITE on the 100 and may expect it before 180. A non-2xx final answer
    // (a challenge, a refusal) goes alone, so a request from a forged source draws one packet.
    if (trying && !this.lastResponse && status > 100 && status < 300) this.transmit(trying());
    this.lastResponse = response;
    if (status < 200) {
      // §17.2.1: provisional responses are sent and keep the transaction in Proceeding.
      this.transmit(response);
    } else if (status < 300) {
      // RFC 6026 §7.1: a 2xx moves to Accepted; Timer L (64*T1) keeps absorbing INVITE retransmissions.
      this.setState('accepted');
      this.startTimer('L', this.durations.L, () => this.setState('terminated'));
      this.transmit(response);
    } else {
      // §17.2.1: a 300-699 moves to Completed; Timer G retransmits it over UDP, Timer H bounds the wait for ACK.
      this.setState('completed');
      if (!this.reliable) this.startTimer('G', this.intervalG, () => this.onTimerG());
      this.startTimer('H', this.durations.H, () => this.onTimerH());
      this.transmit(response);
    }
  }

  /**
   * The ACK for our 2xx came (it is the TU's: RFC 3261 §13.3.1.4, RFC 6026 §7.1). Until Timer L the
   * transaction only absorbs retransmissions of the INVITE, which needs its key and To tag, not the
   * request nor the parsed 2xx: an answered call's transaction keeps some 500 bytes for those 32 s
   * instead of its INVITE and 2xx parsed (docs/performance.md, "What a call keeps for 32 seconds").
   */
  acknowledged(): void {
    if (this.state === 'accepted') this.keepOnlyForRetransmissions();
  }

  private onTimerG(): void {
    if (this.state !== 'completed' || !this.lastResponse) return;
    // §17.2.1: retransmit the final response, doubling the interval up to T2.
    this.transmit(this.lastResponse);
    this.intervalG = Math.min(2 * this.intervalG, this.settings.t2);
    this.startTimer('G', this.intervalG, () => this.onTimerG());
  }

  private onTimerH(): void {
    if (this.state !== 'completed') return;
    // §17.2.1: Timer H without an ACK -> Terminated, and the TU learns the ACK never came.
    this.stopTimer('G');
    this.emit('failed', 'timeout');
    this.setState('terminated');
  }
}

/** Non-INVITE server transaction, RFC 3261 §17.2.2 (Figure 8). */
export class NonInviteServerTransaction extends ServerTransaction {
  readonly kind = 'non-invite-server' as const;

  constructor(options: ServerTransactionOptions) {
    super(options, 'trying');
  }

  receiveRequest(_request: SipRequest): void {
    // §17.2.2: in Trying retransmissions are discarded; in Proceeding and Completed the last response is resent.
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      this.transmit(this.lastResponse);
    }
  }

  respond(response: SipResponse): void {
    const status = response.status;
    if (this.state !== 'trying' && this.state !== 'proceeding') {
      // §17.2.2: any other final response after Completed is discarded by the transaction layer.
      throw new Error(`cannot send ${status} in non-INVITE server transaction state ${this.state}`);
    }
    this.lastResponse = response;
    if (status < 200) {
      // §17.2.2: a provisional response moves Trying -> Proceeding.
      this.setState('proceeding');
      this.transmit(response);
      return;
    }
    // §17.2.2: a final response moves to Completed; Timer J (64*T1 over UDP, 0 reliable) absorbs retransmissions.
    this.setState('completed');
    this.startTimer('J', this.durations.J, () => this.setState('terminated'));
    this.transmit(response);
    // Completed only resends the last response: a busy registrar has 32 s of REGISTERs inside Timer J,
    // each holding its response's bytes and no more. Over a reliable transport J is 0: nothing to keep.
    if (this.durations.J > 0) this.keepOnlyForRetransmissions();
  }
}
