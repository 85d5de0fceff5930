import type { DialogCreation, DialogUsage, SipRequest, SipResponse } from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import type { AppSipText } from '../wire/app-sip.ts';
import { sipEventMessage } from '../wire/protocol.ts';
import { type AppDialog, type AppDialogState, appDialogId } from './app-dialogs.ts';
import { buildInDialogRequest, contactFor, isSipsUri } from './app-messages.ts';
import type { BridgeCore, PendingIncoming, PendingOutgoing } from './bridge-core.ts';
import type { Flow, Sent, StackListener } from './sip-stack.ts';
import { armSubscription, EXPIRY_GRACE_SECONDS } from './subscription-dialogs.ts';

/**
 * The dialogs the engine keeps for apps (RFC 3261 §12), made and ended by the UA core of @switchboard/sip:
 * what a UAS dialog an app's answer creates and a UAC dialog a response to an app's request creates carry,
 * and the BYE the engine sends itself when a dialog has to end without the app (ACK timeout, session expiry,
 * app gone).
 */

/** What the UAS dialog an app's 1xx/2xx makes (§12.1.1) carries: the app, its flow, our Contact and body. */
export function uasDialog(
  core: BridgeCore,
  pending: PendingIncoming,
  response: SipResponse,
  usage: DialogUsage,
): DialogCreation<AppDialogState> {
  return {
    usage,
    // A method, not a named arrow (docs/performance.md, "What a name made at run time costs").
    options() {
      const listener = core.listenerOf(pending.txn.flow);
      return {
        // drachtio-server numbers the requests it sends in a dialog it answered from 1.
        localSeq: 0,
        localContact:
          response.getHeader('contact') ??
          (listener ? contactFor(listener, isSipsUri(pending.request.uri)) : ''),
        fallbackTarget: pending.request.from.uri,
        data: appState(pending.owner, pending.txn.flow, undefined, bodyOf(response)),
      };
    },
  };
}

/** What the UAC dialog a response to an app's request makes (§12.1.2) carries. */
export function uacDialog(
  pending: PendingOutgoing,
  flow: Flow,
  listener: StackListener | undefined,
  nextHop: string | undefined,
  usage: DialogUsage,
): DialogCreation<AppDialogState> {
  return {
    usage,
    options() {
      // Read when a dialog is made, not for each response: after a 2xx, `request` is parsed on each read.
      const request = pending.request;
      return {
        localContact:
          request.getHeader('contact') ?? (listener ? contactFor(listener, isSipsUri(request.uri)) : ''),
        fallbackTarget: request.uri,
        data: appState(pending.owner, flow, nextHop, bodyOf(request)),
      };
    },
  };
}

function appState(
  owner: AppConnection,
  flow: Flow,
  nextHop: string | undefined,
  localBody: AppDialogState['localBody'],
): AppDialogState {
  return { owner, flow, nextHop, localBody, subscriptionTimer: undefined, lastAck: undefined };
}

/** A subscription not refreshed in time ends, and so does its dialog (RFC 6665 §4.1.2.2, §4.2.2). */
export function armSubscriptionOf(core: BridgeCore, dialog: AppDialog, seconds: number): void {
  armSubscription(dialog, seconds, core.options.subscriptionGraceSeconds ?? EXPIRY_GRACE_SECONDS, () => {
    if (!core.ua.has(dialog)) return;
    core.log.info({ dialogId: appDialogId(dialog) }, 'subscription expired: forgetting its dialog');
    core.ua.terminate(dialog);
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
  core.ua.terminate(dialog);
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
