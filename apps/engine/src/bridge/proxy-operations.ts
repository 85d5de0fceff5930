import {
  createResponse,
  type ForwardOptions,
  type ProxyContext,
  type ProxyOptions,
  parseUri,
  type SipRequest,
  type SipResponse,
  type Uri,
} from '@switchboard/sip';
import type { AppConnection } from '../admin/app-connection.ts';
import { type ProxyDirections, proxyCommand } from '../wire/commands.ts';
import { type AppMessage, proxyBranchReply, responseMessage } from '../wire/protocol.ts';
import type { BridgeCore } from './bridge-core.ts';
import { flowOfOurRoutes, fromClusterPeer } from './cluster-peers.ts';
import type { Flow, IncomingTransaction } from './sip-stack.ts';

/**
 * Proxy operations on packages/sip's stateful proxy (RFC 3261 §16): an app's `proxy` command, a request
 * handler's proxy instruction, and in-dialog requests routed through us after we Record-Routed their dialog.
 * This file picks drachtio-server's behaviour among the library's options and turns the proxy's events into
 * what drachtio-server reports: each branch's final response and `done` to the app, and the cdr events.
 */

/** Timer C of proxied INVITE branches when the configuration names none (drachtio-server: 185 s). */
const DRACHTIO_TIMER_C_MS = 185_000;

/**
 * The stack proxy's options as drachtio-server behaves: Timer C gives a branch up at once with a 408, the
 * lowest status goes upstream as it came (no 503 -> 500, no merged challenges), and an app that stays in
 * the dialog Record-Routes whatever it proxies; whether to Record-Route is decided per request.
 */
export function drachtioProxyOptions(timerCMs?: number): Omit<ProxyOptions, 'manager' | 'resolver'> {
  return {
    timerC: timerCMs ?? DRACHTIO_TIMER_C_MS,
    timerCAction: 'give-up',
    bestResponse: 'drachtio-server',
    recordRoute: false,
    recordRouteMethods: 'all',
  };
}

/** What the app that asked for a proxy operation hears of it. */
interface AppReports {
  branchFinal(raw: string, flow: Flow): void;
  done(): void;
}

/**
 * `proxy|txnId|...`: the engine proxies the incoming request statefully; every branch's final response and
 * then `done` go back to the app.
 */
export function handleProxy(core: BridgeCore, app: AppConnection, msg: AppMessage): void {
  const { txnId, ...options } = proxyCommand(msg);
  const pending = core.ua.serverRequest(txnId);
  if (!pending) {
    app.send(responseMessage(msg.msgId, 'NOK', 'unknown transaction id'));
    return;
  }
  if (options.destinations.length === 0) {
    app.send(responseMessage(msg.msgId, 'NOK', 'Invalid proxy request: no destination'));
    return;
  }
  // The request is the proxy's now, no longer the UA core's (RFC 3261 §16).
  core.ua.abandon(pending.txn);
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
  directions: ProxyDirections,
  app: AppReports | undefined,
): void {
  const targets = directions.destinations.flatMap((d): Uri[] => {
    try {
      return [parseUri(d)];
    } catch {
      core.log.info({ destination: d }, 'proxy destination is not a URI');
      return [];
    }
  });
  const context = forwardFrom(core, txn, () => targets, {
    mode: directions.simultaneous ? 'parallel' : 'serial',
    recordRoute: directions.recordRoute,
    headers: directions.headers,
    provisionalTimeout: directions.provisionalTimeoutMs,
    finalTimeout: directions.finalTimeoutMs,
    followRedirects: directions.followRedirects,
  });
  if (!context) {
    app?.done();
    return;
  }
  if (txn.request.method === 'INVITE') recordProxiedCall(core, context);
  if (!app) return;
  context.on('branchFinal', (response, _target, received) => {
    // once a final went upstream, the losing branches' answers are not the app's business
    if (received && (response.status < 300 || !context.finalSent)) {
      app.branchFinal(received.response.toString(), core.stack.proxy?.flowTo(received.from) ?? txn.flow);
    }
  });
  context.on('final', () => app.done());
}

/**
 * The cdr events drachtio-server writes for a proxied INVITE: cdr:attempt per branch sent; per branch answer,
 * late ones included (network, proxy-uac); for the response sent upstream (application, proxy-uas).
 */
function recordProxiedCall(core: BridgeCore, context: ProxyContext): void {
  context.on('branchSent', (sent) => core.cdr({ kind: 'attempt', source: 'application' }, sent.toString()));
  const branchAnswer = (response: SipResponse) =>
    proxyCdr(core, 'network', 'proxy-uac', response, response.toString());
  context.on('branchFinal', (_response, _target, received) => received && branchAnswer(received.response));
  context.on('lateFinal', (received) => branchAnswer(received.response));
  context.on('final', (response) =>
    proxyCdr(core, 'application', 'proxy-uas', response, response.toString()),
  );
}

/** cdr:start for a 2xx, else cdr:stop: call-canceled for a 487 and call-rejected otherwise. */
function proxyCdr(
  core: BridgeCore,
  source: 'network' | 'application',
  role: 'proxy-uac' | 'proxy-uas',
  response: SipResponse,
  raw: string,
): void {
  core.cdr(
    response.status < 300
      ? { kind: 'start', source, role }
      : { kind: 'stop', source, reason: response.status === 487 ? 'call-canceled' : 'call-rejected' },
    raw,
  );
}

/** An in-dialog request routed through us (we Record-Routed it): pop our Route and proxy it on. */
export function proxyInDialog(core: BridgeCore, txn: IncomingTransaction): void {
  const isBye = txn.request.method === 'BYE';
  // drachtio-server ends the proxied call's record on the BYE: once received, once forwarded.
  if (isBye) core.cdr({ kind: 'stop', source: 'network', reason: 'normal-release' }, txn.raw);
  // From a cluster peer, our Route's flow token says which flow the device is on (cluster-forward.ts).
  const flow = fromClusterPeer(core, txn.flow) ? flowOfOurRoutes(core, txn.request) : undefined;
  const context = forwardFrom(core, txn, (request) => [request.uri], {
    recordRoute: false,
    ...(flow ? { flow } : {}),
  });
  if (isBye) {
    context?.on('branchSent', (sent) =>
      core.cdr({ kind: 'stop', source: 'application', reason: 'normal-release' }, sent.toString()),
    );
  }
}

/**
 * §16.3 validation and §16.4 route preprocessing, then the library proxy forwards the request to the
 * targets (chosen after preprocessing); undefined when the request was answered instead.
 */
export function forwardFrom(
  core: BridgeCore,
  txn: IncomingTransaction,
  targets: (request: SipRequest) => Uri[],
  options: ForwardOptions,
): ProxyContext | undefined {
  const request = txn.request;
  const proxy = core.stack.proxy;
  const server = proxy?.serverTransactionOf(txn);
  if (!proxy || !server) {
    void txn.respond(createResponse(request, 500, { reason: 'Proxying Not Available' })).catch(() => {});
    return undefined;
  }
  const rejection = proxy.core.validate(request);
  if (rejection) {
    const headers = rejection.headers ?? [];
    void txn.respond(createResponse(request, rejection.status, { headers })).catch(() => {});
    return undefined;
  }
  proxy.core.preprocessRoute(request);
  const chosen = targets(request);
  if (chosen.length === 0) {
    // nobody to try (no destination parsed): answered here, before the context could report to anyone
    void txn.respond(createResponse(request, 480)).catch(() => {});
    return undefined;
  }
  const context = proxy.core.forward(server, request, chosen, options);
  core.proxies.set(txn, context);
  context.on('completed', () => core.proxies.delete(txn));
  return context;
}

/** Whether a request's top Route names us: an in-dialog request of a dialog we Record-Routed (§16.4). */
export function routedThroughUs(core: BridgeCore, request: SipRequest): boolean {
  const top = request.route[0];
  return top !== undefined && core.stack.proxy?.core.isLocal(top.uri) === true;
}

/** The ACK for a 2xx we proxied with Record-Route: forward it statelessly (§16.11); false when not ours. */
export function forwardProxiedAck(core: BridgeCore, ack: SipRequest, from?: Flow): boolean {
  if (!routedThroughUs(core, ack)) return false;
  const flow = from && fromClusterPeer(core, from) ? flowOfOurRoutes(core, ack) : undefined;
  void core.stack.proxy?.core.forwardStateless(ack, flow).catch(() => {});
  return true;
}
