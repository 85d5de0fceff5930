import { Dialog, type DialogOptions, type DialogUsage } from '../dialogs/dialog.ts';
import type { DialogTable } from '../dialogs/dialog-table.ts';
import { SipRequest, type SipResponse } from '../messages/message.ts';
import { parseMessage } from '../messages/parser.ts';

/** What a dialog-creating request makes (§12.1): the usage, and the TU's options read when it is made. */
export interface DialogCreation<T> {
  usage: DialogUsage;
  options(): DialogOptions<T>;
}

/**
 * What a dialog made by a response takes from its request (RFC 3261 §12.1.2), with the headers every
 * request carries so that the part still parses as one (§8.1.1), and the body's type for the offer.
 */
const DIALOG_FORMING_HEADERS = [
  'Via',
  'Max-Forwards',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Contact',
  'Content-Type',
];

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
  readonly method: string;
  private heldTxn: C | null;
  private heldRequest: SipRequest | null;
  /** After an INVITE's 2xx: the part of the request a fork's dialog is made from, as sent (latin1). */
  private dialogForming: string | null = null;

  constructor(
    readonly id: string,
    txn: C,
    readonly owner: O,
    /** The dialog the request was sent in; undefined for a request outside any dialog. */
    readonly dialog: Dialog<T> | undefined,
  ) {
    this.heldTxn = txn;
    this.heldRequest = txn.request;
    this.method = txn.request.method;
  }

  /** The transaction; an INVITE's is let go with its request after the 2xx (`keepOnlyDialogForming`). */
  get txn(): C {
    if (this.heldTxn === null) throw new Error(`request ${this.id} let go of its transaction`);
    return this.heldTxn;
  }

  /**
   * The request as sent; after an INVITE's 2xx, its dialog-forming part, parsed again on each read (only
   * a 2xx from another fork reads it then, §13.2.2.4).
   */
  get request(): SipRequest {
    if (this.heldRequest !== null) return this.heldRequest;
    if (this.dialogForming === null) throw new Error(`request ${this.id} let go of its request`);
    return parseMessage(Buffer.from(this.dialogForming, 'latin1')) as SipRequest;
  }

  /**
   * RFC 6026 §7.2: after an INVITE's first 2xx its transaction only passes 2xx up for 64*T1, retransmitted
   * or from other forks, and each fork's 2xx makes a dialog of its own (§12.1.2, §13.2.2.4). That dialog
   * takes the Request-URI, From, Call-ID, CSeq and Contact of the request (and the TU the offer in its
   * body), so those are all that is kept: a few hundred bytes of text instead of the INVITE parsed, its
   * transaction and what the TU hung on it (docs/performance.md, "the callee's side").
   */
  keepOnlyDialogForming(): void {
    const request = this.heldRequest;
    if (request === null) return;
    const part = new SipRequest({ method: request.method, uri: request.uri, body: request.body });
    for (const name of DIALOG_FORMING_HEADERS)
      for (const value of request.getHeaders(name)) part.appendHeader(name, value);
    this.dialogForming = part.ensureContentLength().toBuffer().toString('latin1');
    this.heldRequest = null;
    this.heldTxn = null;
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
