import { randomUUID } from 'node:crypto';
import { acceptedSessionTimer } from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import { AppSipError, type AppSipText, splitAppSip } from '../wire/app-sip.ts';
import { sipCommand } from '../wire/commands.ts';
import { type AppMessage, msgSentReply, responseMessage, sipEventMessage } from '../wire/protocol.ts';
import { appDialogId, dialogIdOf, findAppDialog, findByCallId, ownedBy } from './app-dialogs.ts';
import {
  appToTag,
  buildInDialogRequest,
  buildNewRequest,
  buildResponse,
  findHeader,
  parseRequestLine,
} from './app-messages.ts';
import type { BridgeCore, PendingOutgoing } from './bridge-core.ts';
import { applySessionTimer, startSessionTimer } from './dialog-sessions.ts';
import {
  ackThenBye,
  armSubscriptionOf,
  bodyOf,
  dialogNextHop,
  uacDialog,
  uasDialog,
} from './dialog-usages.ts';
import { onNetworkRequest } from './network-side.ts';
import type { StackListener } from './sip-stack.ts';
import {
  createsSubscriptionDialog,
  renewsSubscription,
  subscriptionSeconds,
  terminatesSubscription,
} from './subscription-dialogs.ts';

/**
 * The app side of the bridge: what drachtio-srf apps send (responses to requests they were handed, new
 * requests, in-dialog requests, CANCELs), completed and sent through the stack, and the responses to their
 * requests handed back. Dialogs are created and updated on the way (RFC 3261 §12).
 */

/** Who sent the message being handled: the app and its message id (its reply names it). */
interface FromApp {
  core: BridgeCore;
  app: AppConnection;
  msgId: string;
}

export function handleSip(core: BridgeCore, app: AppConnection, msg: AppMessage): void {
  const { txnId, dialogId, nextHop } = sipCommand(msg);
  let sip: AppSipText;
  try {
    sip = splitAppSip(msg.sip);
  } catch (err) {
    app.send(responseMessage(msg.msgId, 'NOK', (err as Error).message));
    return;
  }
  const from: FromApp = { core, app, msgId: msg.msgId };
  dispatchSip(from, sip, txnId, dialogId, nextHop).catch((err: unknown) => refused(from, err));
}

/** Where an app's SIP message goes: a response, an in-dialog request, a CANCEL or a new request. */
async function dispatchSip(
  from: FromApp,
  sip: AppSipText,
  txnId: string,
  dialogId: string,
  nextHop: string | undefined,
): Promise<void> {
  if (sip.startLine.startsWith('SIP/')) {
    if (txnId === '') throw new AppSipError('transaction id missing');
    return respondFromApp(from, txnId, sip);
  }
  if (dialogId !== '') return requestInDialog(from, dialogId, sip);
  const { method } = parseRequestLine(sip);
  if (txnId !== '' && method === 'CANCEL') return cancelFromApp(from, txnId, sip);
  const callId = sip.headers.find(([n]) => /^(call-id|i)$/i.test(n))?.[1];
  const known = callId !== undefined && method !== 'INVITE' ? findByCallId(from.core.ua, callId) : undefined;
  if (known) return requestInDialog(from, appDialogId(known), sip);
  return newRequestFromApp(from, sip, nextHop);
}

function refused({ core, app, msgId }: FromApp, err: unknown): void {
  const reason = err instanceof Error ? err.message : String(err);
  core.log.info({ app: app.id, reason }, 'app sip message refused');
  app.send(responseMessage(msgId, 'NOK', reason.replace(/[|\r\n]/g, ' ')));
}

/** The app went away: its pending requests are answered or cancelled, its dialogs end. */
export function appGone(core: BridgeCore, app: AppConnection): void {
  for (const pending of core.ua.serverRequests()) {
    if (pending.owner === app) core.ua.reject(pending, 503, 'Service Unavailable');
  }
  for (const pending of core.ua.clientRequests()) {
    if (pending.owner !== app) continue;
    if (pending.request.method === 'INVITE') {
      void pending.txn.cancel('SIP;cause=503;text="application gone"').catch(() => {});
    }
    core.ua.forgetClient(pending);
  }
  for (const dialog of ownedBy(core.ua, app)) {
    const confirmed = dialog.state === 'confirmed';
    core.ua.terminate(dialog);
    if (confirmed && dialog.usage === 'invite')
      void ackThenBye(core, dialog, 'app disconnected').catch(() => {});
  }
}

async function respondFromApp(from: FromApp, txnId: string, sip: AppSipText): Promise<void> {
  const { core, app, msgId } = from;
  const pending = core.ua.serverRequest(txnId);
  if (!pending) throw new AppSipError('unknown transaction id or transaction already answered');
  const appTag = appToTag(sip);
  if (appTag !== undefined && pending.initial) pending.localTag = appTag;
  const request = pending.request;
  const response = buildResponse(sip, request, pending.localTag, core.listenerOf(pending.txn.flow));
  const status = response.status;
  const method = request.method;
  const initial = pending.initial;
  // The UA core makes or confirms the UAS dialog (§12.1.1) and numbers a reliable 1xx (RFC 3262 §3).
  const usage = dialogUsage(method, status, initial);
  const dialog = core.ua.answering(pending, response, usage && uasDialog(core, pending, response, usage));
  if (renewsSubscription(dialog, method, status))
    armSubscriptionOf(core, dialog, subscriptionSeconds(request, response));
  const offerAnswer = method === 'INVITE' || method === 'UPDATE';
  if (offerAnswer && dialog && response.body.length > 0) dialog.data.localBody = bodyOf(response);
  if (offerAnswer && status >= 200 && status < 300 && dialog?.state === 'confirmed')
    applySessionTimer(core, request, response, dialog);
  const sent = await pending.txn.respond(response);
  // Reliable 1xx retransmitted until PRACK, the 2xx waiting for its ACK, a failure ending the early dialog.
  core.ua.answered(pending, response, () => void pending.txn.respond(response).catch(() => {}));
  const failedInvite = method === 'INVITE' && initial && status >= 300;
  const dialogId = dialog && !failedInvite ? appDialogId(dialog) : '';
  app.send(msgSentReply(msgId, core.sentMeta(sent), txnId, dialogId, sent.raw));
  if (method === 'INVITE' && initial && status >= 200) {
    core.cdr(
      status < 300
        ? { kind: 'start', source: 'application', role: 'uas' }
        : { kind: 'stop', source: 'application', reason: 'call-rejected' },
      sent.raw,
    );
  }
}

async function newRequestFromApp(from: FromApp, sip: AppSipText, nextHop: string | undefined): Promise<void> {
  const { core, app, msgId } = from;
  const { uri } = parseRequestLine(sip);
  const listener = core.stack.listenerFor(uri, nextHop);
  if (!listener) throw new AppSipError('requested protocol/transport not available');
  const request = buildNewRequest(sip, listener);
  const txn = await core.stack.sendRequest(request, nextHop);
  const pending = core.ua.sent(txn, app);
  // Its NOTIFYs may come before its 2xx (RFC 6665 §4.1.2.4): they wait for it (early-notifies.ts).
  if (subscribes(request.method) && request.fromTag !== undefined)
    core.earlyNotifies.subscribing(request.callId, request.fromTag);
  watchOutgoing(core, pending, listener, nextHop);
  app.send(msgSentReply(msgId, core.sentMeta(txn.sent), pending.id, undefined, txn.sent.raw));
  if (request.method === 'INVITE') core.cdr({ kind: 'attempt', source: 'application' }, txn.sent.raw);
}

async function requestInDialog(from: FromApp, dialogId: string, sip: AppSipText): Promise<void> {
  const { core, app, msgId } = from;
  const dialog = findAppDialog(core.ua, dialogId);
  if (!dialog) throw new AppSipError(`unable to find dialog for dialog id ${dialogId}`);
  const request = buildInDialogRequest(sip, dialog, core.listenerOf(dialog.data.flow));
  if (/^(INVITE|UPDATE|ACK)$/.test(request.method) && request.body.length > 0)
    dialog.data.localBody = bodyOf(request);
  if (request.method === 'ACK') {
    const sent = await core.stack.sendAck(request, dialogNextHop(dialog));
    dialog.data.lastAck = request;
    app.send(msgSentReply(msgId, core.sentMeta(sent), randomUUID(), dialogId, sent.raw));
    return;
  }
  const txn = await core.stack.sendRequest(request, dialogNextHop(dialog));
  const pending = core.ua.sent(txn, app, dialog);
  watchOutgoing(core, pending, core.listenerOf(txn.sent.flow), dialog.data.nextHop);
  if (request.method === 'BYE' && dialog.usage === 'invite') {
    // The dialog ends with the BYE's final response, except a challenge: drachtio-srf sends the BYE again
    // with credentials inside the same dialog (RFC 3261 §15.1.1, §22.2).
    core.ua.forgetAckWait(dialog);
    txn.onResponse((response) => {
      if (response.status >= 200 && response.status !== 401 && response.status !== 407)
        core.ua.terminate(dialog);
    });
  }
  // RFC 6665 §4.2.2: the notifier ends the subscription, and with it a dialog that has no other usage.
  if (dialog.usage === 'subscription' && terminatesSubscription(request)) core.ua.terminate(dialog);
  app.send(msgSentReply(msgId, core.sentMeta(txn.sent), pending.id, dialogId, txn.sent.raw));
}

async function cancelFromApp(from: FromApp, txnId: string, sip: AppSipText): Promise<void> {
  const { core, app, msgId } = from;
  const pending = core.ua.clientRequest(txnId);
  if (pending?.method !== 'INVITE') throw new AppSipError('unknown transaction id');
  if (!pending.pending) throw new AppSipError('transaction already completed');
  const sent = await pending.txn.cancel(findHeader(sip, 'reason'));
  app.send(msgSentReply(msgId, core.sentMeta(sent), txnId, undefined, sent.raw));
}

/** Responses to an app's request: the UA core makes or fixes dialogs on the way (§12.1.2), then the app hears. */
function watchOutgoing(
  core: BridgeCore,
  pending: PendingOutgoing,
  listener: StackListener | undefined,
  nextHop: string | undefined,
): void {
  // The listener outlives the request (RFC 6026 §7.2: 2xx come for 64*T1 after the first): it reads
  // `pending.request` only when it needs it, and never holds the request itself.
  const method = pending.method;
  const initial = pending.dialog === undefined;
  pending.txn.onResponse((response, raw, flow) =>
    core.guard('response', () => {
      const status = response.status;
      const usage = dialogUsage(method, status, initial);
      const dialog = core.ua.receiveResponse(
        pending,
        response,
        usage && uacDialog(pending, flow, listener, nextHop, usage),
      );
      // A failure ends the early dialog, if any; the app still sees the dialog's name with it.
      const failedDialog =
        initial && method === 'INVITE' && status >= 300 && response.toTag !== undefined
          ? dialogIdOf(response.callId, response.fromTag ?? '')
          : undefined;
      const dialogId = dialog ? appDialogId(dialog) : failedDialog;
      if (renewsSubscription(dialog, method, status))
        armSubscriptionOf(core, dialog, subscriptionSeconds(pending.request, response));
      if ((method === 'INVITE' || method === 'UPDATE') && status >= 200 && status < 300 && dialog) {
        // RFC 4028 §7.2: the 2xx to our request sets the session timer.
        const agreed = acceptedSessionTimer(response);
        if (agreed && core.ua.has(dialog)) startSessionTimer(core, dialog, agreed.interval, agreed.weRefresh);
      }
      // A 100 Trying is hop by hop (RFC 3261 §17.1.1.2: it only stops the request's retransmissions), and
      // drachtio-server's stack keeps it from apps too: the app hears from 101 on.
      if (status === 100) return;
      if (pending.owner.isOpen) {
        pending.owner.send(sipEventMessage(core.networkMeta(flow, raw), pending.id, dialogId ?? '', raw));
        if (method === 'INVITE' && initial && status >= 200) {
          core.cdr(
            status < 300
              ? { kind: 'start', source: 'network', role: 'uac' }
              : { kind: 'stop', source: 'network', reason: 'call-rejected' },
            raw,
          );
        }
      }
      // The app has the final response: the NOTIFYs that overtook it follow, now inside the dialog a
      // 2xx made (or refused with 481 by the UA core when there is none), a turn later, so that an app
      // awaiting the dialog (drachtio-srf's promise) has its NOTIFY listener on first.
      if (initial && status >= 200 && subscribes(method) && response.fromTag !== undefined)
        core.earlyNotifies.settle(response.callId, response.fromTag, (txn) =>
          setImmediate(() => core.guard('early notify', () => onNetworkRequest(core, txn))),
        );
    }),
  );
}

/**
 * The dialog usage a response creates: an initial INVITE's (RFC 3261 §12.1) or a subscription's
 * (RFC 6665 §4.1.2.2, §4.2.1); undefined when it creates none.
 */
function dialogUsage(
  method: string,
  status: number,
  initial: boolean,
): 'invite' | 'subscription' | undefined {
  if (method === 'INVITE' && initial) return 'invite';
  return createsSubscriptionDialog(method, status, !initial) ? 'subscription' : undefined;
}

/** An out-of-dialog request whose 2xx creates a subscription (RFC 6665 §4.1.2.2, RFC 3515 §2.4.4). */
function subscribes(method: string): boolean {
  return createsSubscriptionDialog(method, 200, false);
}
