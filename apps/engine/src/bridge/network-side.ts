import { randomUUID } from 'node:crypto';
import { createResponse, type SipRequest, type SipResponse, tooShortSession } from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import { handlerFor } from '../routing/request-handlers.ts';
import { sipEventMessage } from '../wire/protocol.ts';
import { type AppDialog, appDialogId } from './app-dialogs.ts';
import type { BridgeCore } from './bridge-core.ts';
import { forwardToFlow } from './cluster-forward.ts';
import { armSubscriptionOf, dialogNextHop, endDialogUnsolicited } from './dialog-usages.ts';
import type { LocalDelivery } from './local-handlers.ts';
import { forwardProxiedAck } from './proxy-operations.ts';
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
  // RFC 3261 §12.2.2 in the UA core: in a dialog, or answered there (481, 500), or new (§8.2).
  const route = core.ua.receiveRequest(txn);
  if (route.kind === 'handled') return;
  if (route.kind === 'in-dialog') {
    onNetworkInDialog(core, txn, route.dialog);
    return;
  }
  // A peer node's request for a device whose flow is ours goes out on it, not to our apps.
  if (forwardToFlow(core, txn)) return;
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
  if (core.local.takes(request.method)) {
    core.local.handOver(core, txn, LOCAL_DELIVERY);
    return;
  }
  deliverToApps(core, txn);
}

/** A new request no handler took (or one a local handler passed on): to an app, or answered here. */
function deliverToApps(core: BridgeCore, txn: IncomingTransaction): void {
  const request = txn.request;
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

/**
 * What a local handler passes on goes where it would have gone without one; an INVITE it refused gives
 * the cdr events an app's refusal gives (attempt, then stop), as drachtio-server reports every INVITE.
 */
const LOCAL_DELIVERY: LocalDelivery = {
  toApps: deliverToApps,
  rejectedInvite(core, txn, sent) {
    core.cdr({ kind: 'attempt', source: 'network' }, txn);
    core.cdr({ kind: 'stop', source: 'application', reason: 'call-rejected' }, sent);
  },
};

/** Hands a new request to the app chosen for it. */
export function deliverNew(core: BridgeCore, txn: IncomingTransaction, app: AppConnection): void {
  const pending = core.track(txn, app);
  const receivedOn = { host: txn.flow.localAddress, port: txn.flow.localPort };
  app.send(sipEventMessage(core.networkMeta(txn.flow, txn.raw), pending.id, '', txn.raw, receivedOn));
}

function onNetworkInDialog(core: BridgeCore, txn: IncomingTransaction, dialog: AppDialog): void {
  const request = txn.request;
  if (!dialog.data.owner.isOpen) {
    // The dialog's app is gone: nobody can answer inside it (RFC 3261 §12.2.2).
    void txn.respond(createResponse(request, 481));
    return;
  }
  const tooShort = tooShortSession(request, core.minSE, false);
  if (tooShort) {
    void txn.respond(tooShort);
    return;
  }
  const dialogId = appDialogId(dialog);
  const owner = dialog.data.owner;
  // A BYE ends the dialog's INVITE usage as the UA core tracks it (§15.1.2).
  const pending = core.track(txn, owner, dialog);
  if (request.method === 'BYE' && dialog.usage === 'invite') {
    core.cdr({ kind: 'stop', source: 'network', reason: 'normal-release' }, txn.raw);
  }
  if (dialog.usage === 'subscription' && request.method === 'NOTIFY') {
    // RFC 6665 §4.1.3: the subscriber learns the expiry, or the end, from each NOTIFY.
    const seconds = notifiedSeconds(request);
    if (terminatesSubscription(request)) core.ua.terminate(dialog);
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
  // Still with a handler in this process: 487, and it is not passed on.
  if (core.local.cancel(invite)) return;
  // §9.2 in the UA core: a pending INVITE gets 487 and its early dialog ends.
  const pending = core.ua.receiveCancel(invite);
  if (!pending) return;
  if (pending.owner.isOpen) {
    pending.owner.send(sipEventMessage(core.networkMeta(flow, raw), pending.id, '', raw));
  }
  core.cdr({ kind: 'stop', source: 'network', reason: 'call-canceled' }, cancel.toString());
}

export function onNetworkAck(core: BridgeCore, ack: SipRequest, raw: string, flow: Flow): void {
  const route = core.ua.receiveAck(ack);
  if (route.kind === 'no-dialog') {
    forwardProxiedAck(core, ack, flow);
    return;
  }
  // Only the first ACK for each 2xx goes up; retransmitted ACKs stop here (§13.3.1.4).
  const dialog = route.dialog;
  if (route.kind === 'first' && dialog.data.owner.isOpen)
    dialog.data.owner.send(
      sipEventMessage(core.networkMeta(flow, raw), randomUUID(), appDialogId(dialog), raw),
    );
}

/** No ACK came for our 2xx within 64*T1 (RFC 3261 §13.3.1.4): the dialog ends with a BYE. */
export function onAckTimeout(core: BridgeCore, invite: IncomingTransaction): void {
  const dialog = core.ua.ackTimeout(invite);
  if (!dialog) return;
  core.log.info({ dialogId: appDialogId(dialog) }, 'no ACK for our 2xx: ending the dialog');
  endDialogUnsolicited(core, dialog, 'ACK timeout');
}

/** A 2xx retransmitted after our ACK: send the same ACK again (RFC 3261 §13.2.2.4). */
export function onStrayResponse(core: BridgeCore, response: SipResponse): void {
  if (response.status < 200 || response.status >= 300 || response.cseq.method !== 'INVITE') return;
  const fromTag = response.fromTag;
  if (!fromTag) return;
  const dialog = core.ua.dialogByUacTag(response.callId, fromTag);
  const lastAck = dialog?.data.lastAck;
  if (dialog && lastAck) void core.stack.sendAck(lastAck, dialogNextHop(dialog)).catch(() => {});
}
