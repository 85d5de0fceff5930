import {
  type Dialog,
  DialogTable,
  type RSeqCounter,
  type SessionTimer,
  type SipRequest,
} from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import type { Flow } from './sip-stack.ts';

/**
 * The dialogs the engine keeps on behalf of apps are packages/sip dialogs (RFC 3261 §12) in its DialogTable;
 * what the engine adds per dialog is the app that owns it and what runs on it. drachtio names a dialog
 * `Call-ID;from-tag=<the UAC's From tag>`: for a dialog we answered (uas) that is the remote tag, for one we
 * initiated (uac) our own tag. This file translates those names; it keeps no table of its own.
 */
export interface AppDialogState {
  /** The app that owns the dialog and receives its in-dialog requests. */
  owner: AppConnection;
  /** The flow the dialog's requests arrived on (for connection-oriented transports we answer on it). */
  flow: Flow;
  /** The outbound proxy the app asked for, kept for in-dialog requests without a route set. */
  nextHop: string | undefined;
  /** When the subscription of a subscription dialog expires (subscription-dialogs.ts). */
  subscriptionTimer: NodeJS.Timeout | undefined;
  /** The RSeq numbers of our reliable provisional responses (RFC 3262 §3), made at the first one. */
  rseq: RSeqCounter | undefined;
  /** RFC 4028 session timer, once a 2xx agreed on one. */
  session: SessionTimer | undefined;
  /** Our current session description, offered again in a refreshing re-INVITE (drachtio-server does the same). */
  localBody: { body: string; contentType: string } | undefined;
  /** Our last ACK to the dialog's 2xx, re-sent when the 2xx is retransmitted. */
  lastAck: SipRequest | undefined;
}

export type AppDialog = Dialog<AppDialogState>;

export function dialogIdOf(callId: string, uacTag: string): string {
  return `${callId};from-tag=${uacTag}`;
}

/** The drachtio name of a dialog. */
export function appDialogId(dialog: AppDialog): string {
  return dialogIdOf(dialog.id.callId, uacTagOf(dialog));
}

function uacTagOf(dialog: AppDialog): string {
  return dialog.role === 'uac' ? dialog.id.localTag : dialog.id.remoteTag;
}

const FROM_TAG = ';from-tag=';

/** The engine's dialogs under their drachtio names, over packages/sip's DialogTable. */
export class AppDialogs {
  readonly table = new DialogTable<AppDialogState>();

  add(dialog: AppDialog): void {
    this.table.add(dialog);
  }

  /** The dialog with this drachtio name. */
  get(id: string): AppDialog | undefined {
    const at = id.lastIndexOf(FROM_TAG);
    if (at < 0) return undefined;
    const tag = id.slice(at + FROM_TAG.length);
    return this.table.withCallId(id.slice(0, at)).find((d) => uacTagOf(d) === tag);
  }

  /** Forgets a dialog and stops what ran on it. */
  remove(id: string | AppDialog): void {
    const dialog = typeof id === 'string' ? this.get(id) : id;
    if (!dialog) return;
    dialog.data.session?.stop();
    if (dialog.data.subscriptionTimer) clearTimeout(dialog.data.subscriptionTimer);
    this.table.remove(dialog);
  }

  /** Whether this dialog is still the one kept under its name (not ended and replaced). */
  has(dialog: AppDialog): boolean {
    return dialog.state !== 'terminated' && this.get(appDialogId(dialog)) === dialog;
  }

  /** The dialog an incoming request belongs to: To tag is our tag, From tag the peer's (RFC 3261 §12.2.2). */
  matchIncoming(
    callId: string,
    fromTag: string | undefined,
    toTag: string | undefined,
  ): AppDialog | undefined {
    return this.table.matchIncoming(callId, fromTag, toTag);
  }

  /** Any dialog with this Call-ID (an app's request carrying a known Call-ID goes inside it, as drachtio does). */
  findByCallId(callId: string): AppDialog | undefined {
    return this.table.withCallId(callId)[0];
  }

  ownedBy(app: AppConnection): AppDialog[] {
    return this.table.all().filter((d) => d.data.owner === app);
  }

  /** Forgets every dialog and stops their timers (engine shutdown). */
  clear(): void {
    for (const dialog of this.table.all()) this.remove(dialog);
  }

  get size(): number {
    return this.table.size;
  }
}
