import { EventEmitter } from 'node:events';
import type { SipRequest, SipResponse } from '../messages/message.ts';
import type { TransportTarget } from '../transport/types.ts';
import { InviteClientTransaction } from './client.ts';
import type { ClientTransaction, TransactionManager } from './manager.ts';

export interface FailoverRequestEvents {
  /** A response for the TU: provisionals, the final response, 2xx retransmissions (INVITE). */
  response: [response: SipResponse, target: TransportTarget];
  /** A new attempt started (one client transaction per target tried). */
  attempt: [transaction: ClientTransaction, target: TransportTarget];
}

/**
 * Sends a request to an ordered list of targets (RFC 3263 §4.3): a transport error, a timeout or a 503
 * from one target moves on to the next with a fresh client transaction, until one answers or the list ends.
 * Once any provisional response arrived the request stays with that target.
 */
export class FailoverRequest extends EventEmitter<FailoverRequestEvents> {
  private index = -1;
  private current?: ClientTransaction;
  private cancelRequested?: { reason?: string };
  private settledFinal = false;

  constructor(
    private readonly manager: TransactionManager,
    /** Builds the request for one attempt (a fresh copy: each attempt gets its own Via branch). */
    private readonly build: (target: TransportTarget) => SipRequest,
    private readonly targets: TransportTarget[],
  ) {
    super();
  }

  /** The client transaction of the attempt in progress (or the last one). */
  get transaction(): ClientTransaction | undefined {
    return this.current;
  }

  start(): this {
    this.next();
    return this;
  }

  /** CANCELs the attempt in progress (§9.1) and tries no further targets. */
  cancel(reason?: string): void {
    this.cancelRequested = { reason };
    if (this.current instanceof InviteClientTransaction) this.manager.cancel(this.current, reason);
  }

  private next(lastFailure?: SipResponse): void {
    this.index++;
    const target = this.targets[this.index];
    if (!target || this.cancelRequested) {
      this.settledFinal = true;
      if (lastFailure) this.emit('response', lastFailure, this.targets[this.index - 1]!);
      return;
    }
    let tx: ClientTransaction;
    try {
      tx = this.manager.sendRequest(this.build(target), target);
    } catch {
      this.next(lastFailure);
      return;
    }
    this.current = tx;
    let provisional = false;
    let localFailure = false;
    this.emit('attempt', tx, target);
    // 'failed' comes just before the synthesized 408/503 response.
    tx.on('failed', () => {
      localFailure = true;
    });
    tx.on('response', (response) => {
      if (tx !== this.current) return;
      const status = response.status;
      const retry = !provisional && (status === 503 || (localFailure && status >= 400)) && !this.settledFinal;
      if (retry && this.index < this.targets.length - 1 && !this.cancelRequested) {
        // RFC 3263 §4.3: 503, transport error or timeout -> next target; this response is not passed up.
        this.next(response);
        return;
      }
      if (status < 200) provisional = true;
      else this.settledFinal = true;
      this.emit('response', response, target);
    });
  }
}
