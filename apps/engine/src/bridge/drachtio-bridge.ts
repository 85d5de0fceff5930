import type { DialogTable } from '@switchboard/sip';
import type { AppRequestHandler } from '../admin/admin-server.ts';
import type { AppConnection } from '../admin/app-connection.ts';
import type { AppMessage } from '../wire/protocol.ts';
import type { AppDialog, AppDialogState } from './app-dialogs.ts';
import { findAppDialog } from './app-dialogs.ts';
import { appGone, handleSip } from './app-side.ts';
import { BridgeCore, type BridgeOptions } from './bridge-core.ts';
import type { LocalHandler, LocalMethod } from './local-handlers.ts';
import {
  onAckTimeout,
  onNetworkAck,
  onNetworkCancel,
  onNetworkRequest,
  onStrayResponse,
} from './network-side.ts';
import { handleProxy, proxyInDialog, routedThroughUs } from './proxy-operations.ts';
import { handleRequestSafely } from './request-failure.ts';
import type { Flow } from './sip-stack.ts';

export type { BridgeOptions } from './bridge-core.ts';

/**
 * Joins drachtio-srf apps and the SIP stack: hands network requests to apps (round-robin per verb, in-dialog
 * to the dialog's owner), completes and sends what apps send, and cleans up after an app that goes away. The
 * dialogs, CANCEL matching and the wait for the ACK of a 2xx are the UA core's (packages/sip
 * user-agent-core, held in bridge-core.ts). The work is split by side: app-side.ts (what apps
 * send), network-side.ts (what peers send), proxy-operations.ts, and dialog-usages.ts / dialog-sessions.ts
 * (the dialogs and what runs on them); this class only wires the stack's and the apps' events to them.
 */
export class DrachtioBridge implements AppRequestHandler {
  private readonly core: BridgeCore;

  constructor(options: BridgeOptions) {
    // An in-dialog request for no dialog of ours: a NOTIFY ahead of its SUBSCRIBE's 2xx waits for it
    // (RFC 6665 §4.1.2.4); one routed through us is proxied (RFC 3261 §16.12).
    const core = new BridgeCore(options, (c, txn) => {
      if (c.earlyNotifies.hold(txn)) return true;
      if (!routedThroughUs(c, txn.request)) return false;
      proxyInDialog(c, txn);
      return true;
    });
    this.core = core;
    const stack = options.stack;
    const addressOf = (flow: Flow) => core.listenerOf(flow)?.advertisedAddress ?? flow.localAddress;
    stack.onRequest((txn) =>
      handleRequestSafely(
        txn,
        'request',
        core.log,
        addressOf(txn.flow),
        () => onNetworkRequest(core, txn),
        () => core.forgetRequest(txn),
      ),
    );
    // The CANCEL itself was answered by the transaction layer; a failure here must still answer the INVITE.
    stack.onCancel((cancel, raw, flow, invite) =>
      handleRequestSafely(
        invite,
        'cancel',
        core.log,
        addressOf(invite.flow),
        () => onNetworkCancel(core, cancel, raw, flow, invite),
        () => core.forgetRequest(invite),
      ),
    );
    stack.onAckTimeout((invite) => core.guard('ack timeout', () => onAckTimeout(core, invite)));
    stack.onAck((ack, raw, flow) => core.guard('ack', () => onNetworkAck(core, ack, raw, flow)));
    stack.onStrayResponse((response) => core.guard('stray response', () => onStrayResponse(core, response)));
  }

  /** The dialogs the engine keeps for apps (the UA core's table). */
  get dialogs(): DialogTable<AppDialogState> {
    return this.core.ua.dialogs;
  }

  /** The dialog with this drachtio name. */
  dialog(id: string): AppDialog | undefined {
    return findAppDialog(this.core.ua, id);
  }

  /**
   * `handler` takes new `method` requests before any connected app (local-handlers.ts); the returned
   * function hands them back to the apps.
   */
  answerLocally(method: LocalMethod, handler: LocalHandler): () => void {
    return this.core.local.add(method, handler);
  }

  /** Stops every timer (engine shutdown). */
  close(): void {
    this.core.close();
  }

  handleSip(app: AppConnection, msg: AppMessage): void {
    handleSip(this.core, app, msg);
  }

  handleProxy(app: AppConnection, msg: AppMessage): void {
    handleProxy(this.core, app, msg);
  }

  appGone(app: AppConnection): void {
    appGone(this.core, app);
  }
}
