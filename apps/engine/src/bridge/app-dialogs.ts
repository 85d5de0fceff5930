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
  /** The drachtio name the app knows the dialog by, fixed when first given (see `appDialogId`). */
  appId?: string | undefined;
}

export type AppDialog = Dialog<AppDialogState>;

export function dialogIdOf(callId: string, uacTag: string): string {
  return `${callId};from-tag=${uacTag}`;
}

/** The names given per app: a name belongs to one live dialog of the app (drachtio-srf keys its dialogs by it). */
const namesByApp = new WeakMap<AppConnection, Map<string, AppDialog>>();

/**
 * The drachtio name of a dialog, fixed when first given. A spiral puts two dialogs with one Call-ID and
 * one UAC From tag into the engine: a proxy (a PBX we front, docs/sbc.md) sends a call we placed back to
 * us, keeping both (RFC 3261 §16.6). drachtio would name the dialog we sent and the one we answered the
 * same; when the name is taken in the app, the later dialog gets its role appended.
 */
export function appDialogId(dialog: AppDialog): string {
  const named = dialog.data.appId;
  if (named) return named;
  const base = dialogIdOf(dialog.id.callId, uacTagOf(dialog));
  let names = namesByApp.get(dialog.data.owner);
  if (!names) {
    names = new Map();
    namesByApp.set(dialog.data.owner, names);
  }
  const holder = names.get(base);
  const taken = holder !== undefined && holder !== dialog && holder.state !== 'terminated';
  const id = taken ? `${base};${dialog.role}` : base;
  dialog.data.appId = id;
  names.set(id, dialog);
  return id;
}

/** The dialog ended: its name is free again. */
export function forgetAppDialogId(dialog: AppDialog): void {
  const id = dialog.data.appId;
  const names = namesByApp.get(dialog.data.owner);
  if (id && names?.get(id) === dialog) names.delete(id);
}

const FROM_TAG = ';from-tag=';

/** The dialog with this drachtio name. */
export function findAppDialog(ua: BridgeUserAgent, id: string): AppDialog | undefined {
  const at = id.lastIndexOf(FROM_TAG);
  if (at < 0) return undefined;
  return ua.dialogs
    .withCallId(id.slice(0, at))
    .find((d) => d.state !== 'terminated' && appDialogId(d) === id);
}

/** Any dialog with this Call-ID (an app's request carrying a known Call-ID goes inside it, as drachtio does). */
export function findByCallId(ua: BridgeUserAgent, callId: string): AppDialog | undefined {
  return ua.dialogs.withCallId(callId)[0];
}

export function ownedBy(ua: BridgeUserAgent, app: AppConnection): AppDialog[] {
  return ua.dialogs.all().filter((d) => d.data.owner === app);
}
