import type { SipRequest, SipResponse } from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import { proxyCommand } from '../wire/commands.ts';
import { type AppMessage, proxyBranchReply, responseMessage } from '../wire/protocol.ts';
import type { BridgeCore } from './bridge-core.ts';
import { isOurs, ProxyCore, type ProxyOptions, popTopRoute } from './proxy-core.ts';
import type { Flow, IncomingTransaction } from './sip-stack.ts';

/**
 * Proxy operations: an app's `proxy` command, a request handler's proxy instruction, and in-dialog requests
 * routed through us after we Record-Routed their dialog. The stateful proxy itself is ProxyCore; this file
 * adds the cdr events and the app's reports drachtio-server sends.
 */

/**
 * `proxy|txnId|...`: the engine proxies the incoming request statefully; every branch's final response and
 * then `done` go back to the app.
 */
export function handleProxy(core: BridgeCore, app: AppConnection, msg: AppMessage): void {
  const { txnId, ...options } = proxyCommand(msg);
  const pending = core.incoming.get(txnId);
  if (!pending) {
    app.send(responseMessage(msg.msgId, 'NOK', 'unknown transaction id'));
    return;
  }
  if (options.destinations.length === 0) {
    app.send(responseMessage(msg.msgId, 'NOK', 'Invalid proxy request: no destination'));
    return;
  }
  core.finish(pending);
  startProxy(core, pending.txn, options, {
    branchFinal: (raw, flow) => {
      if (app.isOpen) app.send(proxyBranchReply(msg.msgId, core.networkMeta(flow, raw), raw));
    },
    done: () => {
      if (app.isOpen) app.send(responseMessage(msg.msgId, 'OK', 'done'));
    },
  });
}

/**
 * Proxies an incoming request statefully (for an app's `proxy`, or a request handler's proxy instruction),
 * with the cdr events drachtio-server writes; the app, if any, hears of each branch's final and the end.
 */
export function startProxy(
  core: BridgeCore,
  txn: IncomingTransaction,
  options: Omit<ProxyOptions, 'timerCMs'>,
  app: { branchFinal(raw: string, flow: Flow): void; done(): void } | undefined,
): void {
  const request = txn.request;
  const top = request.route[0];
  if (top && isOurs(top.uri.toString(), core.stack)) popTopRoute(request);
  const proxy = new ProxyCore(
    txn,
    { ...options, timerCMs: core.options.proxyTimerCMs ?? 185_000 },
    core.stack,
    {
      branchSent: (branchRequest, raw) => {
        if (branchRequest.method === 'INVITE') core.cdr({ kind: 'attempt', source: 'application' }, raw);
      },
      branchFinal: (_response, raw, flow) => app?.branchFinal(raw, flow),
      branchResult: (response, raw) => {
        if (response.cseq.method === 'INVITE') proxyCdr(core, 'network', 'proxy-uac', response, raw);
      },
      upstreamFinal: (response) => {
        if (request.method === 'INVITE')
          proxyCdr(core, 'application', 'proxy-uas', response, response.toString());
      },
      done: () => {
        core.proxies.delete(txn);
        app?.done();
      },
    },
    core.log,
  );
  core.proxies.set(txn, proxy);
  proxy.start();
}

/**
 * The cdr events drachtio-server writes for proxied INVITEs: per branch (network, proxy-uac) and for the
 * response sent upstream (application, proxy-uas): cdr:start for a 2xx, else cdr:stop, call-canceled for a
 * 487 and call-rejected otherwise.
 */
function proxyCdr(
  core: BridgeCore,
  source: 'network' | 'application',
  role: 'proxy-uac' | 'proxy-uas',
  response: SipResponse,
  raw: string,
): void {
  if (response.status < 200) return;
  core.cdr(
    response.status < 300
      ? { kind: 'start', source, role }
      : { kind: 'stop', source, reason: response.status === 487 ? 'call-canceled' : 'call-rejected' },
    raw,
  );
}

/** An in-dialog request routed through us (we Record-Routed it): pop our Route and proxy it on. */
export function proxyInDialog(core: BridgeCore, txn: IncomingTransaction): void {
  popTopRoute(txn.request);
  // drachtio-server ends the proxied call's record on the BYE: once received, once forwarded.
  if (txn.request.method === 'BYE')
    core.cdr({ kind: 'stop', source: 'network', reason: 'normal-release' }, txn.raw);
  const proxy = new ProxyCore(
    txn,
    {
      destinations: [txn.request.uri.toString()],
      recordRoute: false,
      simultaneous: false,
      followRedirects: false,
      provisionalTimeoutMs: 0,
      finalTimeoutMs: 0,
      headers: [],
    },
    core.stack,
    {
      branchFinal: () => {},
      done: () => core.proxies.delete(txn),
      branchSent: (sent, raw) => {
        if (sent.method === 'BYE')
          core.cdr({ kind: 'stop', source: 'application', reason: 'normal-release' }, raw);
      },
    },
    core.log,
  );
  core.proxies.set(txn, proxy);
  proxy.start();
}

/** The ACK for a 2xx we proxied with Record-Route: forward it statelessly (§16.11); false when not ours. */
export function forwardProxiedAck(core: BridgeCore, ack: SipRequest): boolean {
  const top = ack.route[0];
  if (!top || !isOurs(top.uri.toString(), core.stack)) return false;
  popTopRoute(ack);
  ack.setHeader('Max-Forwards', Math.max((ack.maxForwards ?? 70) - 1, 0));
  void core.stack.sendAck(ack, undefined, { proxy: true }).catch(() => {});
  return true;
}
