import type { Dialog } from '../dialogs/dialog.ts';
import { DialogTable } from '../dialogs/dialog-table.ts';
import type { SessionTimer, SessionTimerEvents } from '../session/session-timer.ts';
import { type DialogResources, DialogResourceTable } from './dialog-resources.ts';

/**
 * The dialog side of the UA core: the dialog table (RFC 3261 §12), what each dialog hosts (RSeq numbering,
 * RFC 4028 session timer), and the end of a dialog, which stops all of it. UserAgentCore extends it with the
 * requests in flight.
 */
export abstract class DialogOwner<T> {
  readonly dialogs = new DialogTable<T>();
  private readonly resources = new DialogResourceTable<Dialog<T>>();

  constructor(private readonly terminated: ((dialog: Dialog<T>) => void) | undefined) {}

  /** The dialog of a request, named from the UAC's side: its Call-ID and the UAC's From tag. */
  dialogByUacTag(callId: string, uacTag: string): Dialog<T> | undefined {
    return this.dialogs.withCallId(callId).find((d) => uacTagOf(d) === uacTag && d.state !== 'terminated');
  }

  /** The RSeq counter and session timer hosted on a dialog. */
  resourcesOf(dialog: Dialog<T>): DialogResources {
    return this.resources.of(dialog);
  }

  sessionTimerOf(dialog: Dialog<T>): SessionTimer | undefined {
    return this.resources.sessionTimerOf(dialog);
  }

  /** The dialog's RFC 4028 session timer, made on first use with the TU's refresh and expiry actions. */
  ensureSessionTimer(dialog: Dialog<T>, events: SessionTimerEvents): SessionTimer {
    return this.resources.of(dialog).ensureSessionTimer(events);
  }

  /** Whether the dialog is live and still the one kept under its id. */
  has(dialog: Dialog<T>): boolean {
    return dialog.state !== 'terminated' && this.dialogs.get(dialog.id) === dialog;
  }

  /**
   * The dialog ends (BYE §15, a failure to its INVITE §12.1, expiry, owner gone): early|confirmed →
   * terminated. Its session timer stops, then what the core keeps for it (`ending`), then it leaves the table.
   */
  terminate(dialog: Dialog<T>): void {
    if (dialog.state === 'terminated') return;
    this.resources.stop(dialog);
    this.ending(dialog);
    this.dialogs.remove(dialog);
    this.terminated?.(dialog);
  }

  /** What the subclass stops when a dialog ends (reliable provisionals, the wait for its ACK). */
  protected abstract ending(dialog: Dialog<T>): void;
}

/** The UAC's From tag of a dialog: our tag when we sent the dialog-creating request, else the peer's. */
export function uacTagOf(dialog: Dialog<unknown>): string {
  return dialog.role === 'uac' ? dialog.id.localTag : dialog.id.remoteTag;
}
