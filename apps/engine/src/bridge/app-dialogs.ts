import { type Dialog, type SipRequest, uacTagOf } from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import type { BridgeUserAgent } from './bridge-core.ts';
import type { Flow } from './sip-stack.ts';

/**
 * The dialogs the engine keeps on behalf of apps live in packages/sip's user-agent core (RFC 3261 §12); what
 * the engine adds per dialog is the app that owns it and what the app's wire needs. drachtio names a dialog
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

const FROM_TAG = ';from-tag=';

/** The dialog with this drachtio name. */
export function findAppDialog(ua: BridgeUserAgent, id: string): AppDialog | undefined {
  const at = id.lastIndexOf(FROM_TAG);
  if (at < 0) return undefined;
  return ua.dialogByUacTag(id.slice(0, at), id.slice(at + FROM_TAG.length));
}

/** Any dialog with this Call-ID (an app's request carrying a known Call-ID goes inside it, as drachtio does). */
export function findByCallId(ua: BridgeUserAgent, callId: string): AppDialog | undefined {
  return ua.dialogs.withCallId(callId)[0];
}

export function ownedBy(ua: BridgeUserAgent, app: AppConnection): AppDialog[] {
  return ua.dialogs.all().filter((d) => d.data.owner === app);
}
