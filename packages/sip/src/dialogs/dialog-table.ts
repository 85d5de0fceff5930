import { detached } from '../messages/detached.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';
import { type Dialog, type DialogId, dialogIdOfRequest, dialogIdOfResponse, dialogKey } from './dialog.ts';

/** Where a received request belongs (§12.2.2). */
export type RequestDialogMatch<T = undefined> =
  | { kind: 'in-dialog'; dialog: Dialog<T> }
  /** Has a To tag but no such dialog: answer 481 (an ACK is dropped instead, it gets no response). */
  | { kind: 'unknown-dialog' }
  /** No To tag: an out-of-dialog request for the core. */
  | { kind: 'out-of-dialog' };

/** The dialogs a UA (or B2BUA leg) currently has, by dialog id and by Call-ID. */
export class DialogTable<T = undefined> {
  private readonly dialogs = new Map<string, Dialog<T>>();
  /** Dialogs sharing a Call-ID (forks, or a B2BUA's legs): usually one. */
  private readonly byCallId = new Map<string, Dialog<T>[]>();

  get size(): number {
    return this.dialogs.size;
  }

  add(dialog: Dialog<T>): Dialog<T> {
    this.dialogs.set(dialog.key, dialog);
    const same = this.byCallId.get(dialog.id.callId);
    if (same) same.push(dialog);
    else this.byCallId.set(dialog.id.callId, [dialog]);
    return dialog;
  }

  get(id: DialogId): Dialog<T> | undefined {
    return this.dialogs.get(dialogKey(id));
  }

  remove(dialog: Dialog<T>): void {
    dialog.terminate();
    if (this.dialogs.get(dialog.key) !== dialog) return;
    this.dialogs.delete(dialog.key);
    const same = this.byCallId.get(dialog.id.callId);
    const rest = same?.filter((d) => d !== dialog) ?? [];
    if (rest.length > 0) this.byCallId.set(dialog.id.callId, rest);
    else this.byCallId.delete(dialog.id.callId);
  }

  /**
   * The peer's tag changed before the dialog was confirmed (a 2xx from another fork than the early 1xx,
   * §13.2.2.4, for a UA keeping one dialog per request): the dialog is filed under its new id.
   */
  retag(dialog: Dialog<T>, remoteTag: string): void {
    if (dialog.id.remoteTag === remoteTag) return;
    if (this.dialogs.get(dialog.key) === dialog) this.dialogs.delete(dialog.key);
    dialog.id = { ...dialog.id, remoteTag: detached(remoteTag) };
    this.dialogs.set(dialog.key, dialog);
  }

  /** Classifies a received request and, for an in-dialog one, runs the dialog's CSeq/target checks separately. */
  matchRequest(request: SipRequest): RequestDialogMatch<T> {
    if (!request.toTag) return { kind: 'out-of-dialog' };
    const id = dialogIdOfRequest(request);
    const dialog = id && this.get(id);
    return dialog && dialog.state !== 'terminated'
      ? { kind: 'in-dialog', dialog }
      : { kind: 'unknown-dialog' };
  }

  /** §12.2.2 from the tags alone: our tag is the request's To tag, the peer's its From tag. */
  matchIncoming(
    callId: string,
    fromTag: string | undefined,
    toTag: string | undefined,
  ): Dialog<T> | undefined {
    if (fromTag === undefined || toTag === undefined) return undefined;
    return this.get({ callId, localTag: toTag, remoteTag: fromTag });
  }

  /** The dialog (early or confirmed) a response to our request belongs to, if known. */
  matchResponse(response: SipResponse): Dialog<T> | undefined {
    const id = dialogIdOfResponse(response);
    return id ? this.get(id) : undefined;
  }

  /** The dialogs with this Call-ID, oldest first. */
  withCallId(callId: string): readonly Dialog<T>[] {
    return this.byCallId.get(callId) ?? [];
  }

  all(): Dialog<T>[] {
    return [...this.dialogs.values()];
  }

  /** Ends and forgets every dialog. */
  clear(): void {
    for (const dialog of this.all()) this.remove(dialog);
  }
}
