import { Dialog, type DialogUsage, type SipRequest, type SipResponse, type Uri } from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import type { AppSipText } from '../wire/app-sip.ts';
import { sipEventMessage } from '../wire/protocol.ts';
import { type AppDialog, type AppDialogState, appDialogId, dialogIdOf } from './app-dialogs.ts';
import { buildInDialogRequest, contactFor } from './app-messages.ts';
import type { BridgeCore, PendingIncoming, PendingOutgoing } from './bridge-core.ts';
import type { Flow, Sent, StackListener } from './sip-stack.ts';
import { armSubscription, EXPIRY_GRACE_SECONDS } from './subscription-dialogs.ts';

/**
 * Creating, ending and addressing the dialogs the engine keeps for apps (RFC 3261 §12): the UAS dialog an
 * app's answer creates, the UAC dialog a response to an app's request creates, and the BYE the engine sends
 * itself when a dialog has to end without the app (ACK timeout, session expiry, app gone).
 */

/** The UAS dialog of an incoming request that the app's 1xx/2xx answers (§12.1.1); returns its drachtio id. */
export function ensureUasDialog(
  core: BridgeCore,
  pending: PendingIncoming,
  response: SipResponse,
  usage: DialogUsage,
): string {
  const request = pending.txn.request;
  const { id, existing } = keptDialog(core, request);
  if (existing) {
    if (response.status >= 200) existing.confirm();
  } else {
    const listener = core.listenerOf(pending.txn.flow);
    core.dialogs.add(
      Dialog.fromUas(request, response, {
        usage,
        // drachtio-server numbers the requests it sends in a dialog it answered from 1.
        localSeq: 0,
        localContact: response.getHeader('contact') ?? (listener ? contactFor(listener) : ''),
        fallbackTarget: request.from.uri,
        data: appState(pending.app, pending.txn.flow, undefined, bodyOf(response)),
      }),
    );
  }
  pending.dialogId = id;
  return id;
}

/**
 * The UAC dialog a 1xx/2xx with a To tag to an app's request creates (§12.1.2), one per request as drachtio
 * keeps it: a later response from another fork takes the dialog over. Returns its drachtio id.
 */
export function ensureUacDialog(
  core: BridgeCore,
  pending: PendingOutgoing,
  response: SipResponse,
  flow: Flow,
  listener: StackListener | undefined,
  usage: DialogUsage,
): string {
  const request = pending.txn.request;
  const { id, existing } = keptDialog(core, request);
  if (existing) {
    if (response.toTag !== undefined) core.dialogs.table.retag(existing, response.toTag);
    return id;
  }
  core.dialogs.add(
    Dialog.fromUac(request, response, {
      usage,
      localContact: request.getHeader('contact') ?? (listener ? contactFor(listener) : ''),
      fallbackTarget: request.uri,
      data: appState(pending.app, flow, pending.nextHop, bodyOf(request)),
    }),
  );
  return id;
}

/** The dialog the engine keeps for a request's UAC tag, under its drachtio name, if there is one yet. */
function keptDialog(core: BridgeCore, request: SipRequest): { id: string; existing: AppDialog | undefined } {
  const id = dialogIdOf(request.callId, request.fromTag ?? '');
  return { id, existing: core.dialogs.get(id) };
}

function appState(
  owner: AppConnection,
  flow: Flow,
  nextHop: string | undefined,
  localBody: AppDialogState['localBody'],
): AppDialogState {
  return {
    owner,
    flow,
    nextHop,
    localBody,
    subscriptionTimer: undefined,
    lastAck: undefined,
    rseq: undefined,
    session: undefined,
  };
}

/** A subscription not refreshed in time ends, and so does its dialog (RFC 6665 §4.1.2.2, §4.2.2). */
export function armSubscriptionOf(core: BridgeCore, dialog: AppDialog, seconds: number): void {
  armSubscription(dialog, seconds, core.options.subscriptionGraceSeconds ?? EXPIRY_GRACE_SECONDS, () => {
    if (!core.dialogs.has(dialog)) return;
    core.log.info({ dialogId: appDialogId(dialog) }, 'subscription expired: forgetting its dialog');
    core.dialogs.remove(dialog);
  });
}

/** Where a dialog's requests go before resolution: its route set, else the app's outbound proxy. */
export function dialogNextHop(dialog: AppDialog): string | undefined {
  return dialog.routeSet.length > 0 ? undefined : dialog.data.nextHop;
}

/**
 * The engine ends a dialog itself: BYE to the peer, the same BYE to the app as `unsolicited`, and a
 * cdr:stop when a reason is given (drachtio-server: `session-expired` for session timer expiry).
 */
export function endDialogUnsolicited(
  core: BridgeCore,
  dialog: AppDialog,
  reason: string,
  cdrReason?: string,
): void {
  const dialogId = appDialogId(dialog);
  core.dialogs.remove(dialog);
  core.forgetAwaitingAck(dialogId);
  void sendBye(core, dialog, reason).then(
    (sent) => {
      if (dialog.data.owner.isOpen)
        dialog.data.owner.send(sipEventMessage(core.sentMeta(sent), 'unsolicited', dialogId, sent.raw));
      if (cdrReason) core.cdr({ kind: 'stop', source: 'application', reason: cdrReason }, sent.raw);
    },
    () => {},
  );
}

/**
 * Ends a confirmed INVITE dialog the app left. The app sends the ACK for a 2xx we received; when it left
 * before doing so, the engine ACKs first (every 2xx is ACKed, RFC 3261 §13.2.2.4), then says BYE (§15).
 */
export async function ackThenBye(core: BridgeCore, dialog: AppDialog, reason: string): Promise<Sent> {
  if (dialog.role === 'uac' && dialog.data.lastAck === undefined) {
    const ack = buildInDialogRequest(
      { startLine: 'ACK sip:placeholder SIP/2.0', headers: [], body: '' },
      dialog,
    );
    await core.stack.sendAck(ack, dialogNextHop(dialog));
    dialog.data.lastAck = ack;
  }
  return sendBye(core, dialog, reason);
}

export async function sendBye(core: BridgeCore, dialog: AppDialog, reason: string): Promise<Sent> {
  const sip: AppSipText = {
    startLine: 'BYE sip:placeholder SIP/2.0',
    headers: [['Reason', `SIP;text="${reason}"`]],
    body: '',
  };
  const txn = await core.stack.sendRequest(buildInDialogRequest(sip, dialog), dialogNextHop(dialog));
  return txn.sent;
}

/** The body of a message and its type, kept as the dialog's current session description. */
export function bodyOf(message: SipRequest | SipResponse): AppDialogState['localBody'] {
  if (message.body.length === 0) return undefined;
  return {
    body: message.body.toString('utf8'),
    contentType: message.getHeader('content-type') ?? 'application/sdp',
  };
}

export function firstContactUri(message: SipRequest | SipResponse): Uri | undefined {
  const contact = message.contact;
  if (contact === '*' || contact.length === 0) return undefined;
  return contact[0]!.uri.clone();
}
