import { parseNameAddr, type SipRequest, type SipResponse } from '@switchboard/sip';
import type { AppSipText } from '../wire/app-sip.ts';
import { sipEventMessage } from '../wire/protocol.ts';
import { buildInDialogRequest, contactFor } from './app-messages.ts';
import type { BridgeCore, PendingIncoming, PendingOutgoing } from './bridge-core.ts';
import { type Dialog, dialogIdOf } from './dialog-table.ts';
import type { Flow, Sent, StackListener } from './sip-stack.ts';
import { armSubscription, EXPIRY_GRACE_SECONDS } from './subscription-dialogs.ts';

/**
 * Creating, ending and addressing the dialogs the engine keeps for apps (RFC 3261 §12): the UAS dialog an
 * app's answer creates, the UAC dialog a response to an app's request creates, and the BYE the engine sends
 * itself when a dialog has to end without the app (ACK timeout, session expiry, app gone).
 */

/** The UAS dialog of an incoming request that the app's 1xx/2xx answers (§12.1.1); returns its id. */
export function ensureUasDialog(
  core: BridgeCore,
  pending: PendingIncoming,
  response: SipResponse,
  usage: Dialog['usage'],
): string {
  const request = pending.txn.request;
  const id = dialogIdOf(request.callId, request.fromTag ?? '');
  if (!core.dialogs.get(id)) {
    const listener = core.listenerOf(pending.txn.flow);
    core.dialogs.add({
      ...emptyUsages(),
      id,
      role: 'uas',
      usage,
      callId: request.callId,
      localTag: pending.localTag,
      remoteTag: request.fromTag ?? '',
      localUri: stripTag(request.getHeader('to') ?? ''),
      remoteUri: stripTag(request.getHeader('from') ?? ''),
      remoteTarget: firstContactUri(request) ?? request.from.uri.toString(),
      routeSet: request.getHeaders('record-route').flatMap(splitAddresses),
      localCseq: 0,
      remoteCseq: request.cseq.seq,
      localContact: response.getHeader('contact') ?? (listener ? contactFor(listener) : ''),
      inviteCseq: request.cseq.seq,
      owner: pending.app,
      flow: pending.txn.flow,
      nextHop: undefined,
      localBody: bodyOf(response),
    });
  }
  pending.dialogId = id;
  return id;
}

/** The UAC dialog a 1xx/2xx with a To tag to an app's request creates (§12.1.2); returns its id. */
export function ensureUacDialog(
  core: BridgeCore,
  pending: PendingOutgoing,
  response: SipResponse,
  flow: Flow,
  listener: StackListener | undefined,
  usage: Dialog['usage'],
): string {
  const request = pending.txn.request;
  const id = dialogIdOf(request.callId, request.fromTag ?? '');
  const existing = core.dialogs.get(id);
  if (existing) {
    existing.remoteTag = response.toTag ?? existing.remoteTag;
    return id;
  }
  core.dialogs.add({
    ...emptyUsages(),
    id,
    role: 'uac',
    usage,
    callId: request.callId,
    localTag: request.fromTag ?? '',
    remoteTag: response.toTag ?? '',
    localUri: stripTag(request.getHeader('from') ?? ''),
    remoteUri: stripTag(request.getHeader('to') ?? ''),
    remoteTarget: firstContactUri(response) ?? request.uri.toString(),
    routeSet: routeSetOf(response),
    localCseq: request.cseq.seq,
    remoteCseq: undefined,
    localContact: request.getHeader('contact') ?? (listener ? contactFor(listener) : ''),
    inviteCseq: request.cseq.seq,
    owner: pending.app,
    flow,
    nextHop: pending.nextHop,
    localBody: bodyOf(request),
  });
  return id;
}

function emptyUsages() {
  return {
    subscriptionTimer: undefined,
    confirmed: false,
    lastAck: undefined,
    rseq: undefined,
    session: undefined,
  };
}

/** A UAC's route set: the response's Record-Route, reversed (§12.1.2). */
export function routeSetOf(response: SipResponse): string[] {
  return response.getHeaders('record-route').flatMap(splitAddresses).reverse();
}

/** A subscription not refreshed in time ends, and so does its dialog (RFC 6665 §4.1.2.2, §4.2.2). */
export function armSubscriptionOf(core: BridgeCore, dialog: Dialog, seconds: number): void {
  armSubscription(dialog, seconds, core.options.subscriptionGraceSeconds ?? EXPIRY_GRACE_SECONDS, () => {
    if (core.dialogs.get(dialog.id) !== dialog) return;
    core.log.info({ dialogId: dialog.id }, 'subscription expired: forgetting its dialog');
    core.dialogs.remove(dialog.id);
  });
}

/** Where a dialog's requests go before resolution: its route set, else the app's outbound proxy. */
export function dialogNextHop(dialog: Dialog): string | undefined {
  return dialog.routeSet.length > 0 ? undefined : dialog.nextHop;
}

/**
 * The engine ends a dialog itself: BYE to the peer, the same BYE to the app as `unsolicited`, and a
 * cdr:stop when a reason is given (drachtio-server: `session-expired` for session timer expiry).
 */
export function endDialogUnsolicited(
  core: BridgeCore,
  dialog: Dialog,
  reason: string,
  cdrReason?: string,
): void {
  const dialogId = dialog.id;
  core.dialogs.remove(dialogId);
  core.forgetAwaitingAck(dialogId);
  void sendBye(core, dialog, reason).then(
    (sent) => {
      if (dialog.owner.isOpen)
        dialog.owner.send(sipEventMessage(core.sentMeta(sent), 'unsolicited', dialogId, sent.raw));
      if (cdrReason) core.cdr({ kind: 'stop', source: 'application', reason: cdrReason }, sent.raw);
    },
    () => {},
  );
}

export async function sendBye(core: BridgeCore, dialog: Dialog, reason: string): Promise<Sent> {
  const sip: AppSipText = {
    startLine: 'BYE sip:placeholder SIP/2.0',
    headers: [['Reason', `SIP;text="${reason}"`]],
    body: '',
  };
  const txn = await core.stack.sendRequest(buildInDialogRequest(sip, dialog), dialogNextHop(dialog));
  return txn.sent;
}

/**
 * A From/To value without its tag, for a dialog's local and remote URI (RFC 3261 §12.1), in name-addr form as
 * sofia-sip writes it (`sip:a@b;tag=1` becomes `<sip:a@b>`); a value that does not parse loses only its tag.
 */
function stripTag(value: string): string {
  try {
    const address = parseNameAddr(value);
    address.params.delete('tag');
    return address.toString();
  } catch {
    return value.replace(/;\s*tag=[^;]*/i, '');
  }
}

function splitAddresses(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((s) => s !== '');
}

/** The body of a message and its type, kept as the dialog's current session description. */
export function bodyOf(message: SipRequest | SipResponse): Dialog['localBody'] {
  if (message.body.length === 0) return undefined;
  return {
    body: message.body.toString('utf8'),
    contentType: message.getHeader('content-type') ?? 'application/sdp',
  };
}

export function firstContactUri(message: SipRequest | SipResponse): string | undefined {
  const contact = message.contact;
  if (contact === '*' || contact.length === 0) return undefined;
  return contact[0]!.uri.toString();
}
