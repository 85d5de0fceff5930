import { createHash } from 'node:crypto';
import { generateBranch } from '../messages/builders.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';
import { type ResolvedTarget, SipResolver } from '../resolver/resolver.ts';
import { FailoverRequest } from '../transactions/failover.ts';
import type { ServerTransaction, TransactionManager } from '../transactions/manager.ts';
import { newVia } from '../transactions/requests.ts';
import {
  defaultPort,
  isSecure,
  type ListenerInfo,
  normalizeAddress,
  type TransportTarget,
} from '../transport/types.ts';
import { NameAddr } from '../uri/name-addr.ts';
import { SipUri } from '../uri/sip-uri.ts';
import type { Uri } from '../uri/uri.ts';
import type { BestResponseRule } from './best-response.ts';
import { encodeFlowToken, type FlowTarget } from './flow-token.ts';
import { type BranchSender, type ForwardOptions, ProxyContext, type TimerCAction } from './proxy-context.ts';

export interface ProxyOptions {
  manager: TransactionManager;
  /** RFC 3263 resolver for next hops with host names; numeric hosts never need it. */
  resolver?: SipResolver;
  /** Insert Record-Route so that in-dialog requests come through this proxy (§16.6 step 4). */
  recordRoute?: boolean;
  /** Extensions this proxy supports, checked against Proxy-Require (§16.3 step 5). */
  supported?: string[];
  /** Timer C for INVITE branches (> 3 min per §16.6 step 11); 0 disables it. */
  timerC?: number;
  /** Extra names (domains, advertised hosts) that identify this proxy in Route / Request-URI. */
  localNames?: string[];
  /**
   * Loop detection (§16.3 step 4, default true): our Via branches carry a hash of the request, and a
   * request that comes back with one of our Vias whose hash equals its own is refused with 482.
   */
  loopDetection?: boolean;
  /** What Timer C does to a branch that has rung (proxy-context.ts); default `cancel`. */
  timerCAction?: TimerCAction;
  /** How the best final response is chosen (best-response.ts); default `rfc3261`. */
  bestResponse?: BestResponseRule;
  /** Methods whose requests get Record-Route (default INVITE, SUBSCRIBE, REFER: those that make dialogs). */
  recordRouteMethods?: readonly string[] | 'all';
}

/** Result of §16.3 validation: a response to send instead of proxying. */
export interface ProxyRejection {
  status: number;
  reason?: string;
  headers?: Array<[string, string]>;
}

/**
 * A transaction-stateful proxy core (RFC 3261 §16) on top of the transaction manager: validation,
 * route processing, Record-Route, Max-Forwards, serial and parallel forking, CANCEL fan-out and
 * best-response selection. The TU (location service, routing logic) decides the target set.
 */
export class StatefulProxy implements BranchSender {
  readonly manager: TransactionManager;
  readonly timerC: number;
  private readonly timerCAction: TimerCAction;
  private readonly bestResponse: BestResponseRule;
  private readonly recordRouteMethods: ReadonlySet<string> | 'all';
  private readonly resolver: SipResolver;
  private readonly recordRoute: boolean;
  private readonly supported: Set<string>;
  private readonly localNames: Set<string>;
  private readonly loopDetection: boolean;
  private readonly contexts = new Map<ServerTransaction, ProxyContext>();

  constructor(options: ProxyOptions) {
    this.manager = options.manager;
    this.resolver = options.resolver ?? new SipResolver();
    this.recordRoute = options.recordRoute ?? true;
    this.supported = new Set((options.supported ?? []).map((s) => s.toLowerCase()));
    this.localNames = new Set((options.localNames ?? []).map((n) => normalizeAddress(n)));
    this.timerC = options.timerC ?? 180_000;
    this.loopDetection = options.loopDetection ?? true;
    this.timerCAction = options.timerCAction ?? 'cancel';
    this.bestResponse = options.bestResponse ?? 'rfc3261';
    const methods = options.recordRouteMethods ?? ['INVITE', 'SUBSCRIBE', 'REFER'];
    this.recordRouteMethods = methods === 'all' ? 'all' : new Set(methods);
    // §16.10: a CANCEL for a proxied INVITE fans out to its pending branches.
    this.manager.on('cancel', (_cancel, invite) => this.contexts.get(invite)?.cancelPending());
    // §16.7: responses matching no client transaction (2xx retransmissions) are forwarded statelessly.
    this.manager.on('strayResponse', (response) => this.forwardStrayResponse(response));
  }

  /** §16.3 request validation; undefined when the request may be proxied. */
  validate(request: SipRequest): ProxyRejection | undefined {
    const scheme = request.uri.scheme;
    if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
      return { status: 416 };
    }
    const maxForwards = request.maxForwards;
    // §16.3 step 3: Max-Forwards of zero -> 483 Too Many Hops.
    if (maxForwards === 0) return { status: 483 };
    // §16.3 step 4: a request carrying a Via of ours whose loop-detection hash matches its own has looped
    // (a spiral, e.g. after retargeting, has a different Request-URI and so a different hash).
    if (this.loopDetection && this.hasLooped(request)) return { status: 482 };
    // §16.3 step 5: extensions in Proxy-Require we do not support -> 420 with Unsupported.
    const unsupported = request.proxyRequire.filter((ext) => !this.supported.has(ext.toLowerCase()));
    if (unsupported.length) return { status: 420, headers: [['Unsupported', unsupported.join(', ')]] };
    return undefined;
  }

  private hasLooped(request: SipRequest): boolean {
    let hash: string | undefined;
    for (const via of request.via) {
      if (!this.isOurVia(via.host, via.port)) continue;
      hash ??= loopDetectionHash(request);
      if (via.branch?.endsWith(`.${hash}`)) return true;
    }
    return false;
  }

  /**
   * §16.4 route information preprocessing: a Request-URI we put in a Record-Route (strict-router upstream)
   * is replaced by the last Route value; Route values that identify this proxy are removed from the top.
   */
  preprocessRoute(request: SipRequest): void {
    if (this.isLocal(request.uri)) {
      const routes = request.route;
      const last = routes[routes.length - 1];
      if (last) {
        request.uri = last.uri.clone();
        this.setRoutes(request, routes.slice(0, -1));
      }
    }
    const routes = request.route;
    let drop = 0;
    while (drop < routes.length && this.isLocal(routes[drop]!.uri)) drop++;
    if (drop) this.setRoutes(request, routes.slice(drop));
  }

  /** True when the request must be routed on by Route / Request-URI without a target-set decision. */
  hasRemoteDestination(request: SipRequest): boolean {
    return request.route.length > 0 || !this.isLocal(request.uri);
  }

  /**
   * Proxies a request received in `serverTx` to the targets (§16.5-16.7). Returns the response context;
   * the best final response goes upstream by itself.
   */
  forward(
    serverTx: ServerTransaction,
    request: SipRequest,
    targets: Uri[],
    options: ForwardOptions = {},
  ): ProxyContext {
    const settings = {
      timerC: this.timerC,
      timerCAction: this.timerCAction,
      bestResponse: this.bestResponse,
    };
    const context = new ProxyContext(this, settings, serverTx, request, targets, options);
    this.contexts.set(serverTx, context);
    serverTx.once('terminated', () => this.contexts.delete(serverTx));
    context.start();
    return context;
  }

  /**
   * §16.6: builds one branch and resolves its next hop; the returned request (not started yet) tries the
   * resolved targets in order (RFC 3263 §4.3), each attempt with its own Via branch.
   */
  async sendBranch(
    original: SipRequest,
    target: Uri,
    inboundListenerId?: string,
    options: Pick<ForwardOptions, 'recordRoute' | 'headers' | 'flow'> = {},
  ): Promise<FailoverRequest> {
    const headers = options.headers ?? [];
    const request = this.prepareBranch(original, target, headers);
    // §16.6 step 8: the loop-detection part of the branch comes from the request as received
    const loopHash = this.loopDetection ? loopDetectionHash(original) : undefined;
    // §16.6 step 7: next hop from the top Route, else the Request-URI, resolved per RFC 3263; or the
    // flow the TU names (RFC 5626 §5.3).
    const flow = options.flow;
    const hops = flow
      ? [{ ...flow, serverName: flow.address }]
      : await this.resolveNextHop(request.route[0]?.uri ?? request.uri);
    const targets: TransportTarget[] = [];
    for (const hop of hops) {
      const listener = this.manager.transport.selectListener(hop.transport, hop.address);
      if (listener) {
        targets.push({
          transport: hop.transport,
          address: hop.address,
          port: hop.port,
          serverName: hop.serverName,
          listenerId: listener.id,
        });
      }
    }
    if (!targets.length) throw new Error(`cannot reach ${target.toString()}`);
    const methods = this.recordRouteMethods;
    const recordRoute =
      (options.recordRoute ?? this.recordRoute) && (methods === 'all' || methods.has(request.method));
    return new FailoverRequest(
      this.manager,
      (hop) => {
        // Each attempt starts again from the original so its start line is rebuilt from the new Request-URI.
        const attempt = this.prepareBranch(original, target, headers);
        const listener = this.manager.transport.getListeners().find((l) => l.id === hop.listenerId)!;
        // §16.6 step 4: Record-Route with this proxy's URI (lr) so the dialog's requests come back here.
        if (recordRoute) {
          // Double Record-Route when the request leaves on another listener (e.g. UDP in, TCP out), so each
          // side of the dialog reaches this proxy on its own transport; both entries are ours (§16.4).
          const inbound = this.manager.transport.getListeners().find((l) => l.id === inboundListenerId);
          if (inbound && inbound.id !== listener.id) {
            attempt.prependHeader('Record-Route', recordRouteFor(inbound, flow).toString());
          }
          attempt.prependHeader('Record-Route', recordRouteFor(listener, flow).toString());
        }
        // §16.6 step 8: our Via with a fresh branch on top (transaction part, then the loop-detection part).
        const branch = generateBranch();
        attempt.prependVia(newVia(listener, loopHash === undefined ? branch : `${branch}.${loopHash}`));
        return attempt;
      },
      targets,
    );
  }

  /** §16.6 steps 1-3 and 6: copy, Request-URI = target, the TU's headers, Max-Forwards, strict routers. */
  private prepareBranch(original: SipRequest, target: Uri, headers: Array<[string, string]>): SipRequest {
    const request = original.clone();
    request.uri = target.clone();
    for (const [name, value] of headers) request.setHeader(name, value);
    const mf = request.maxForwards;
    // §16.6 step 3: decrement Max-Forwards, or add it with 70.
    request.setHeader('Max-Forwards', mf === undefined ? 70 : Math.max(mf - 1, 0));
    // §16.6 step 6: a strict router on top of Route gets the Request-URI; the URI goes to the end of Route.
    this.postprocessRouting(request);
    return request;
  }

  /**
   * Forwards a request without transaction state (an ACK for a 2xx, §16.11 behaviour for ACK in a stateful
   * proxy): route processing, Max-Forwards, our Via, and out to the next hop.
   */
  async forwardStateless(request: SipRequest, flow?: FlowTarget): Promise<void> {
    if (request.maxForwards === 0) return;
    this.preprocessRoute(request);
    const mf = request.maxForwards;
    request.setHeader('Max-Forwards', mf === undefined ? 70 : mf - 1);
    this.postprocessRouting(request);
    const hops = flow
      ? [{ ...flow, serverName: flow.address }]
      : await this.resolveNextHop(request.route[0]?.uri ?? request.uri);
    const hop = hops[0];
    if (!hop) return;
    const listener = this.manager.transport.selectListener(hop.transport, hop.address);
    if (!listener) return;
    request.prependVia(newVia(listener));
    await this.manager.transport.send(request, {
      transport: hop.transport,
      address: hop.address,
      port: hop.port,
    });
  }

  /** Sends a response upstream: through the server transaction, or statelessly for a late 2xx (§16.7 step 9). */
  respondUpstream(serverTx: ServerTransaction, response: SipResponse): void {
    const state = serverTx.state;
    if (state === 'proceeding' || state === 'trying' || (state === 'accepted' && response.status < 300)) {
      if (serverTx.kind === 'invite-server' && state === 'accepted' && response.status < 200) return;
      try {
        serverTx.respond(response);
        return;
      } catch {
        // fall through to the stateless path
      }
    }
    if (response.status >= 200 && response.status < 300 && serverTx.kind === 'invite-server') {
      this.manager.transport.sendResponse(response, serverTx.source).catch(() => {});
    }
  }

  private forwardStrayResponse(response: SipResponse): void {
    const via = response.topVia;
    if (!via || !this.isOurVia(via.host, via.port)) return;
    // Only 2xx to INVITE travel end to end without a transaction (RFC 6026 §8.4 still forwards them).
    if (response.cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300) return;
    const forwarded = response.clone();
    forwarded.removeTopVia();
    if (!forwarded.topVia) return;
    this.manager.transport.sendResponse(forwarded).catch(() => {});
  }

  /** §16.6 step 6: strict-router compatibility when the top Route has no `lr`. */
  private postprocessRouting(request: SipRequest): void {
    const routes = request.route;
    const top = routes[0];
    if (!top || (top.uri.kind === 'sip' && top.uri.lr)) return;
    const rest = routes.slice(1).map((r) => r.toString());
    rest.push(`<${request.uri.toString()}>`);
    request.uri = top.uri.clone();
    this.setRoutes(request, []);
    for (const r of rest) request.appendHeader('Route', r);
  }

  private setRoutes(request: SipRequest, routes: NameAddr[]): void {
    request.removeHeader('Route');
    for (const r of routes) request.appendHeader('Route', r.toString());
  }

  private async resolveNextHop(uri: Uri): Promise<ResolvedTarget[]> {
    if (uri.kind !== 'sip') return [];
    const maddr = uri.params.get('maddr');
    const host = typeof maddr === 'string' ? maddr : uri.host;
    const request = { host, port: uri.port, transport: uri.transport, secure: uri.scheme === 'sips' };
    return this.resolver.resolve(request);
  }

  /** True when a URI designates this proxy: one of our listeners' addresses/ports or a configured name. */
  isLocal(uri: Uri): boolean {
    if (uri.kind !== 'sip') return false;
    return this.isOurVia(uri.host, uri.port, uri.transport);
  }

  private isOurVia(host: string, port: number | undefined, transport?: string): boolean {
    const h = normalizeAddress(host);
    for (const l of this.manager.transport.getListeners()) {
      const hosts = [normalizeAddress(l.host), normalizeAddress(l.advertisedHost)];
      const ports = [l.port, l.advertisedPort];
      const samePort = port === undefined ? ports.includes(defaultPort(l.transport)) : ports.includes(port);
      if (hosts.includes(h) && samePort && (!transport || transport === l.transport)) return true;
    }
    return this.localNames.has(h) && port === undefined;
  }
}

/**
 * The loop-detection part of a proxy's branch parameter (§16.6 step 8): a hash of the fields a request
 * still carries when it comes back unchanged: To and From tags, Call-ID, Request-URI, CSeq number,
 * Proxy-Require and Proxy-Authorization. The topmost Via of §16.6's list is left out: a request that
 * loops through other elements comes back with their Via on top, so including it would hide every loop
 * longer than one hop. A request retargeted in between (a spiral) has another Request-URI and hash.
 */
export function loopDetectionHash(request: SipRequest): string {
  const hash = createHash('sha256');
  for (const part of [
    request.toTag ?? '',
    request.fromTag ?? '',
    request.callId,
    request.uri.toString(),
    String(request.cseq.seq),
    request.getHeaders('proxy-require').join(','),
    request.getHeaders('proxy-authorization').join('\n'),
  ]) {
    hash.update(part);
    hash.update('\n');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Our Record-Route value for a listener: `<sip:host:port;transport=x;lr>` (§16.6 step 4). */
export function recordRouteFor(listener: ListenerInfo, flow?: FlowTarget): NameAddr {
  const uri = new SipUri({
    scheme: isSecure(listener.transport) ? 'sips' : 'sip',
    // RFC 5626 §5.3: the flow's token in the user part brings the dialog's requests back onto it.
    ...(flow ? { user: encodeFlowToken(flow) } : {}),
    host: listener.advertisedHost,
    port: listener.advertisedPort,
  });
  if (listener.transport !== 'udp') uri.params.set('transport', listener.transport);
  uri.params.set('lr');
  return new NameAddr(uri);
}
