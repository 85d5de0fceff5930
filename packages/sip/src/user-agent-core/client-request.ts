import { Dialog, type DialogOptions, type DialogUsage } from '../dialogs/dialog.ts';
import type { DialogTable } from '../dialogs/dialog-table.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';

/** What a dialog-creating request makes (§12.1): the usage, and the TU's options read when it is made. */
export interface DialogCreation<T> {
  usage: DialogUsage;
  options(): DialogOptions<T>;
}

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

  /**
   * The dialog a response with a To tag belongs to, made when missing (§12.1.2): early for 1xx, confirmed for
   * 2xx. 'per-tag' keeps one per To tag (forks, §13.2.2.4); 'per-request' keeps one, retagged by a later fork.
   */
  dialogFor(
    response: SipResponse,
    table: DialogTable<T>,
    forks: 'per-tag' | 'per-request',
    create: DialogCreation<T> | undefined,
  ): Dialog<T> | undefined {
    const toTag = response.toTag;
    if (toTag === undefined || response.status <= 100) return undefined;
    const known = this.dialogs.get(toTag);
    if (known) return known;
    const only = [...this.dialogs.values()][0];
    if (forks === 'per-request' && only && only.state !== 'terminated') {
      this.dialogs.delete(only.id.remoteTag);
      table.retag(only, toTag);
      this.dialogs.set(toTag, only);
      return only;
    }
    if (!create || response.status >= 300) return undefined;
    const dialog = table.add(
      Dialog.fromUac(this.request, response, { ...create.options(), usage: create.usage }),
    );
    this.dialogs.set(toTag, dialog);
    return dialog;
  }
}
