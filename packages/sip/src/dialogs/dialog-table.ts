import type { SipRequest, SipResponse } from '../messages/message.ts';
import { type Dialog, type DialogId, dialogIdOfRequest, dialogIdOfResponse, dialogKey } from './dialog.ts';

/** Where a received request belongs (§12.2.2). */
export type RequestDialogMatch =
  | { kind: 'in-dialog'; dialog: Dialog }
  /** Has a To tag but no such dialog: answer 481 (an ACK is dropped instead, it gets no response). */
  | { kind: 'unknown-dialog' }
  /** No To tag: an out-of-dialog request for the core. */
  | { kind: 'out-of-dialog' };

/** The dialogs a UA (or B2BUA leg) currently has, by dialog id. */
export class DialogTable {
  private readonly dialogs = new Map<string, Dialog>();

  get size(): number {
    return this.dialogs.size;
  }

  add(dialog: Dialog): Dialog {
    this.dialogs.set(dialog.key, dialog);
    return dialog;
  }

  get(id: DialogId): Dialog | undefined {
    return this.dialogs.get(dialogKey(id));
  }

  remove(dialog: Dialog): void {
    dialog.terminate();
    if (this.dialogs.get(dialog.key) === dialog) this.dialogs.delete(dialog.key);
  }

  /** Classifies a received request and, for an in-dialog one, runs the dialog's CSeq/target checks separately. */
  matchRequest(request: SipRequest): RequestDialogMatch {
    if (!request.toTag) return { kind: 'out-of-dialog' };
    const id = dialogIdOfRequest(request);
    const dialog = id && this.get(id);
    return dialog && dialog.state !== 'terminated'
      ? { kind: 'in-dialog', dialog }
      : { kind: 'unknown-dialog' };
  }

  /** The dialog (early or confirmed) a response to our request belongs to, if known. */
  matchResponse(response: SipResponse): Dialog | undefined {
    const id = dialogIdOfResponse(response);
    return id ? this.get(id) : undefined;
  }

  all(): Dialog[] {
    return [...this.dialogs.values()];
  }
}
