import type { SipRequest, SipResponse } from '../messages/message.ts';
import type { TimerSettings } from './timers.ts';
import { Transaction, type TransactionFailure, type TransactionSender } from './transaction.ts';

export interface ClientTransactionEvents {
  /** A response for the TU (provisional, final, or an RFC 6026 2xx retransmission in Accepted). */
  response: [response: SipResponse];
  /** No final response (Timer B / Timer F) or the transport failed; the TU should act as if a 408/503 arrived. */
  failed: [reason: TransactionFailure, error?: Error];
}

export interface ClientTransactionOptions {
  id: string;
  request: SipRequest;
  reliable: boolean;
  timers: TimerSettings;
  send: TransactionSender<SipRequest>;
  /**
   * Builds the response the TU sees when the transaction fails: 408 on timeout (§17.1.1.2, §17.1.2.2) and
   * 503 on a transport error (§8.1.3.1). Without it, only `failed` is emitted. It is handed the request
   * rather than closing over it, so that nothing but the transaction holds the request (see `request`).
   */
  buildLocalResponse?: (request: SipRequest, status: 408 | 503) => SipResponse;
}

export interface InviteClientTransactionOptions extends ClientTransactionOptions {
  /** Builds the ACK for a non-2xx final response (RFC 3261 §17.1.1.3). */
  buildAck: (request: SipRequest, response: SipResponse) => SipRequest;
}

abstract class ClientTransaction extends Transaction<ClientTransactionEvents> {
  /** The request; null once the final response was passed up (see `request`). */
  protected heldRequest: SipRequest | null;
  protected readonly send: TransactionSender<SipRequest>;
  private readonly buildLocalResponse?: (request: SipRequest, status: 408 | 503) => SipResponse;

  constructor(options: ClientTransactionOptions, initial: 'calling' | 'trying') {
    super(options.id, options.reliable, options.timers, initial);
    this.heldRequest = options.request;
    this.send = options.send;
    this.buildLocalResponse = options.buildLocalResponse;
  }

  /**
   * The request the transaction sends. It is released once the final response has been passed up: in
   * Accepted (RFC 6026 §7.2) the transaction sends nothing and only passes 2xx up, in Completed it only
   * absorbs retransmissions (and resends its ACK to a non-2xx, §17.1.1.2). Reading it then is a bug of
   * the caller: it throws instead of keeping the request alive for the 32 s of Timer M or D.
   */
  get request(): SipRequest {
    if (this.heldRequest === null)
      throw new Error(`${this.kind} transaction ${this.id} released its request`);
    return this.heldRequest;
  }

  /** Ends the transaction without a final response from the far end, telling the TU why. */
  protected fail(reason: TransactionFailure, error?: Error): void {
    const request = this.request;
    this.setState('terminated');
    if (error) this.emit('failed', reason, error);
    else this.emit('failed', reason);
    if (this.buildLocalResponse)
      this.emit('response', this.buildLocalResponse(request, reason === 'timeout' ? 408 : 503));
  }

  /** A response matched to this transaction by the manager (§17.1.3). */
  abstract receiveResponse(response: SipResponse): void;

  /** Transmits (or retransmits) the request; a transport failure ends the transaction (§17.1.4). */
  protected transmit(message: SipRequest): void {
    this.send(message).catch((err: Error) => this.transportError(err));
  }

  protected transportError(err: Error): void {
    // §17.1.4 / §8.1.3.1: the TU treats a transport failure like a 503 response, while it waits for a final
    // one; once a final response came (an ACK to a non-2xx failed to go) the TU has its answer already.
    const waiting = this.state === 'calling' || this.state === 'trying' || this.state === 'proceeding';
    if (waiting) this.fail('transport-error', err);
  }
}

/** INVITE client transaction, RFC 3261 §17.1.1 (Figure 5) as updated by RFC 6026 §7.2 (Accepted state). */
export class InviteClientTransaction extends ClientTransaction {
  readonly kind = 'invite-client' as const;
  private readonly buildAck: (request: SipRequest, response: SipResponse) => SipRequest;
  private ack?: SipRequest;
  private intervalA: number;

  constructor(options: InviteClientTransactionOptions) {
    super(options, 'calling');
    this.buildAck = options.buildAck;
    this.intervalA = this.durations.A;
  }

  /** Sends the INVITE and arms the Calling-state timers (§17.1.1.2). */
  start(): this {
    this.transmit(this.request);
    // §17.1.1.2: over an unreliable transport Timer A starts at T1 and drives retransmissions.
    if (!this.reliable) this.startTimer('A', this.intervalA, () => this.onTimerA());
    // §17.1.1.2: Timer B (64*T1) bounds the wait for any response, whatever the transport.
    this.startTimer('B', this.durations.B, () => this.onTimerB());
    return this;
  }

  private onTimerA(): void {
    if (this.state !== 'calling') return;
    // §17.1.1.2: retransmit and double the interval (no T2 cap for INVITE).
    this.transmit(this.request);
    this.intervalA *= 2;
    this.startTimer('A', this.intervalA, () => this.onTimerA());
  }

  private onTimerB(): void {
    if (this.state !== 'calling') return;
    // §17.1.1.2: still Calling when Timer B fires -> inform the TU of the timeout (408), go to Terminated.
    this.fail('timeout');
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          // §17.1.1.2: a provisional response stops retransmissions (Calling -> Proceeding) and goes to the TU.
          this.stopTimer('A');
          this.setState('proceeding');
          this.emit('response', response);
        } else if (status < 300) {
          // RFC 6026 §7.2: a 2xx moves to Accepted (not Terminated) so further 2xx from other forks reach the TU.
          this.stopTimer('A');
          this.stopTimer('B');
          this.setState('accepted');
          this.startTimer('M', this.durations.M, () => this.setState('terminated'));
          this.emit('response', response);
          // RFC 6026 §7.2: Accepted retransmits nothing and builds no ACK (the TU ACKs each 2xx), so the
          // INVITE is let go now rather than after Timer M (docs/performance.md, "the callee's side").
          this.heldRequest = null;
        } else {
          // §17.1.1.2: a 300-699 goes to Completed: ACK it, pass it up, wait Timer D for retransmissions.
          this.stopTimer('A');
          this.stopTimer('B');
          this.setState('completed');
          this.ack = this.buildAck(this.request, response);
          this.transmit(this.ack);
          this.startTimer('D', this.durations.D, () => this.setState('terminated'));
          this.emit('response', response);
          // §17.1.1.2: Completed only sends the same ACK again; the INVITE is not needed for Timer D.
          this.heldRequest = null;
        }
        return;
      case 'accepted':
        // RFC 6026 §7.2: 2xx retransmissions (and 2xx from other forks) in Accepted go to the TU.
        if (status >= 200 && status < 300) this.emit('response', response);
        return;
      case 'completed':
        // §17.1.1.2: a retransmitted final response gets the same ACK again and is not passed up.
        if (status >= 300 && this.ack) this.transmit(this.ack);
        return;
      default:
        return;
    }
  }
}

/** Non-INVITE client transaction, RFC 3261 §17.1.2 (Figure 6). */
export class NonInviteClientTransaction extends ClientTransaction {
  readonly kind = 'non-invite-client' as const;
  private intervalE: number;

  constructor(options: ClientTransactionOptions) {
    super(options, 'trying');
    this.intervalE = this.durations.E;
  }

  /** Sends the request and arms the Trying-state timers (§17.1.2.2). */
  start(): this {
    this.transmit(this.request);
    // §17.1.2.2: Timer F (64*T1) bounds the transaction; Timer E drives retransmissions over UDP.
    this.startTimer('F', this.durations.F, () => this.onTimerF());
    if (!this.reliable) this.startTimer('E', this.intervalE, () => this.onTimerE());
    return this;
  }

  private onTimerE(): void {
    if (this.state === 'trying') {
      // §17.1.2.2: in Trying, retransmit and double the interval up to T2.
      this.transmit(this.request);
      this.intervalE = Math.min(2 * this.intervalE, this.settings.t2);
      this.startTimer('E', this.intervalE, () => this.onTimerE());
    } else if (this.state === 'proceeding') {
      // §17.1.2.2: in Proceeding, retransmit every T2.
      this.transmit(this.request);
      this.intervalE = this.settings.t2;
      this.startTimer('E', this.intervalE, () => this.onTimerE());
    }
  }

  private onTimerF(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    // §17.1.2.2: Timer F in Trying or Proceeding -> timeout (408) to the TU, Terminated.
    this.fail('timeout');
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    if (this.state !== 'trying' && this.state !== 'proceeding') {
      // §17.1.2.2: Completed absorbs retransmitted responses.
      return;
    }
    if (status < 200) {
      // §17.1.2.2: a provisional response moves Trying -> Proceeding and goes to the TU.
      this.setState('proceeding');
      this.emit('response', response);
      return;
    }
    // §17.1.2.2: a final response moves to Completed; Timer K (T4 over UDP, 0 reliable) absorbs retransmissions.
    this.stopTimer('E');
    this.stopTimer('F');
    this.setState('completed');
    this.startTimer('K', this.durations.K, () => this.setState('terminated'));
    this.emit('response', response);
    // §17.1.2.2: Completed sends nothing; the request is not needed for Timer K.
    this.heldRequest = null;
  }
}
