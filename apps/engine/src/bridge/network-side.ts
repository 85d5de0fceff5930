import { randomUUID } from 'node:crypto';
import {
  createResponse,
  generateTag,
  type SipRequest,
  type SipResponse,
  tooShortSession,
} from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import { handlerFor } from '../routing/request-handlers.ts';
import { sipEventMessage } from '../wire/protocol.ts';
import { appDialogId, dialogIdOf } from './app-dialogs.ts';
import type { BridgeCore } from './bridge-core.ts';
import { prackReceived } from './dialog-sessions.ts';
import { armSubscriptionOf, dialogNextHop, endDialogUnsolicited, firstContactUri } from './dialog-usages.ts';
import { forwardProxiedAck, proxyInDialog, routedThroughUs } from './proxy-operations.ts';
import { routeByHandler } from './request-routing.ts';
import type { Flow, IncomingTransaction } from './sip-stack.ts';
import { notifiedSeconds, terminatesSubscription } from './subscription-dialogs.ts';

/**
 * The network side of the bridge: what arrives from SIP peers goes to the app that routes its method (or
 * the dialog's owner), to a request handler, or to a proxy; the engine answers what no app takes.
 */

const ALLOW =
  'INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, PRACK, REGISTER, SUBSCRIBE, NOTIFY, REFER';

export function onNetworkRequest(core: BridgeCore, txn: IncomingTransaction): void {
  const request = txn.request;
  if (request.toTag !== undefined) {
    onNetworkInDialog(core, txn);
    return;
  }
  const tooShort = tooShortSession(request, core.minSE, true);
  if (tooShort) {
    void txn.respond(tooShort);
    return;
  }
  const handler = core.options.requestHandlers
    ? handlerFor(core.options.requestHandlers, request.method)
    : undefined;
  if (handler) {
    if (request.method === 'INVITE') core.cdr({ kind: 'attempt', source: 'network' }, txn.raw);
    void routeByHandler(core, txn, handler);
    return;
  }
  const app = core.options.registry.select(request.method);
  if (app && request.method === 'INVITE') core.cdr({ kind: 'attempt', source: 'network' }, txn.raw);
  if (!app) {
    if (request.method === 'OPTIONS' && core.options.answerOptions) {
      void txn.respond(
        createResponse(request, 200, {
          headers: [
            ['Allow', ALLOW],
            ['Accept', 'application/sdp'],
          ],
        }),
      );
    } else {
      void txn.respond(createResponse(request, request.method === 'ACK' ? 200 : 503));
    }
    return;
  }
  deliverNew(core, txn, app);
}

/** Hands a new request to the app chosen for it. */
export function deliverNew(core: BridgeCore, txn: IncomingTransaction, app: AppConnection): void {
  const pending = core.track(txn, app, undefined, generateTag());
  const receivedOn = { host: txn.flow.localAddress, port: txn.flow.localPort };
  app.send(sipEventMessage(core.networkMeta(txn.flow, txn.raw), pending.id, '', txn.raw, receivedOn));
}

function onNetworkInDialog(core: BridgeCore, txn: IncomingTransaction): void {
  const request = txn.request;
  const dialog = core.dialogs.matchIncoming(request.callId, request.fromTag, request.toTag);
  if (!dialog && routedThroughUs(core, request)) {
    proxyInDialog(core, txn);
    return;
  }
  if (!dialog?.data.owner.isOpen) {
    // RFC 3261 §12.2.2: a request for a dialog we do not know is answered 481.
    void txn.respond(createResponse(request, 481));
    return;
  }
  const cseq = request.cseq.seq;
  if (dialog.remoteSeq !== undefined && cseq < dialog.remoteSeq && request.method !== 'PRACK') {
    void txn.respond(createResponse(request, 500, { reason: 'Request Out Of Order' }));
    return;
  }
  dialog.remoteSeq = cseq;
  if (request.method === 'INVITE' || request.method === 'UPDATE') {
    dialog.remoteTarget = firstContactUri(request) ?? dialog.remoteTarget;
  }
  if (request.method === 'PRACK') prackReceived(core, dialog, request);
  const tooShort = tooShortSession(request, core.minSE, false);
  if (tooShort) {
    void txn.respond(tooShort);
    return;
  }
  const dialogId = appDialogId(dialog);
  const owner = dialog.data.owner;
  const pending = core.track(txn, owner, dialogId, dialog.id.localTag);
  if (request.method === 'BYE' && dialog.usage === 'invite') {
    core.dialogs.remove(dialog);
    core.forgetAwaitingAck(dialogId);
    core.cdr({ kind: 'stop', source: 'network', reason: 'normal-release' }, txn.raw);
  }
  if (dialog.usage === 'subscription' && request.method === 'NOTIFY') {
    // RFC 6665 §4.1.3: the subscriber learns the expiry, or the end, from each NOTIFY.
    const seconds = notifiedSeconds(request);
    if (terminatesSubscription(request)) core.dialogs.remove(dialog);
    else if (seconds !== undefined) armSubscriptionOf(core, dialog, seconds);
  }
  owner.send(sipEventMessage(core.networkMeta(txn.flow, txn.raw), pending.id, dialogId, txn.raw));
}

/** The stack answered the CANCEL with 200 (RFC 3261 §9.2); the INVITE gets 487 and the app hears of it. */
export function onNetworkCancel(
  core: BridgeCore,
  cancel: SipRequest,
  raw: string,
  flow: Flow,
  invite: IncomingTransaction,
): void {
  const routing = core.routing.get(invite);
  if (routing) {
    // cancelled while its request handler was being asked
    routing.cancelled = true;
    void invite.respond(createResponse(invite.request, 487)).catch(() => {});
    return;
  }
  // A proxied INVITE: the stack's proxy fans the CANCEL out to its branches itself (RFC 3261 §16.10).
  if (core.proxies.has(invite)) return;
  const pending = core.incomingByTxn.get(invite);
  if (!pending) return;
  void core.answer(pending, 487, 'Request Terminated');
  if (pending.app.isOpen) {
    pending.app.send(sipEventMessage(core.networkMeta(flow, raw), pending.id, '', raw));
  }
  core.cdr({ kind: 'stop', source: 'network', reason: 'call-canceled' }, cancel.toString());
}

export function onNetworkAck(core: BridgeCore, ack: SipRequest, raw: string, flow: Flow): void {
  const dialog = core.dialogs.matchIncoming(ack.callId, ack.fromTag, ack.toTag);
  if (!dialog) {
    forwardProxiedAck(core, ack);
    return;
  }
  // Only the first ACK for each 2xx goes up; retransmitted ACKs stop here.
  const dialogId = appDialogId(dialog);
  if (!core.forgetAwaitingAck(dialogId)) return;
  if (dialog.data.owner.isOpen)
    dialog.data.owner.send(sipEventMessage(core.networkMeta(flow, raw), randomUUID(), dialogId, raw));
}

/** No ACK came for our 2xx within 64*T1 (RFC 3261 §13.3.1.4): the dialog ends with a BYE. */
export function onAckTimeout(core: BridgeCore, invite: IncomingTransaction): void {
  const dialogId = core.awaitingAck.get(invite);
  if (dialogId === undefined) return;
  core.awaitingAck.delete(invite);
  const dialog = core.dialogs.get(dialogId);
  if (!dialog) return;
  core.log.info({ dialogId }, 'no ACK for our 2xx: ending the dialog');
  endDialogUnsolicited(core, dialog, 'ACK timeout');
}

/** A 2xx retransmitted after our ACK: send the same ACK again (RFC 3261 §13.2.2.4). */
export function onStrayResponse(core: BridgeCore, response: SipResponse): void {
  if (response.status < 200 || response.status >= 300 || response.cseq.method !== 'INVITE') return;
  const fromTag = response.fromTag;
  if (!fromTag) return;
  const dialog = core.dialogs.get(dialogIdOf(response.callId, fromTag));
  const lastAck = dialog?.data.lastAck;
  if (dialog && lastAck) void core.stack.sendAck(lastAck, dialogNextHop(dialog)).catch(() => {});
}
