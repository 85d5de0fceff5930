import type { Dialog } from '../dialogs/dialog.ts';
import type { SipRequest } from '../messages/message.ts';

/** What the core needs of a client transaction: the request as sent. */
export interface CoreClientTransaction {
  readonly request: SipRequest;
}

/**
 * A request the transaction user sent, seen by the UA core until its final response (RFC 3261 §8.1.3,
 * §13.2.2). States: calling → proceeding (a provisional arrived) → completed (a final response arrived).
 * Out of dialog, it keeps the dialogs its responses created (§12.1.2): one per To tag when forks are kept
 * apart, or the one dialog of the request when the TU wants a single dialog per request.
 */
export type ClientRequestState = 'calling' | 'proceeding' | 'completed';

export class ClientRequest<C extends CoreClientTransaction, O, T> {
  state: ClientRequestState = 'calling';
  /** Dialogs created by responses to this (out-of-dialog) request, by the response's To tag. */
  readonly dialogs = new Map<string, Dialog<T>>();

  constructor(
    readonly id: string,
    readonly txn: C,
    readonly owner: O,
    /** The dialog the request was sent in; undefined for a request outside any dialog. */
    readonly dialog: Dialog<T> | undefined,
  ) {}

  get request(): SipRequest {
    return this.txn.request;
  }

  get pending(): boolean {
    return this.state !== 'completed';
  }

  /** A response arrived: 1xx → proceeding, a final one → completed (§17.1.1.2, §17.1.2.2). */
  receive(status: number): void {
    if (this.state === 'completed') return;
    this.state = status >= 200 ? 'completed' : 'proceeding';
  }
}
