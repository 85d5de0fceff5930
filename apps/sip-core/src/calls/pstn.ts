import { profiles } from '@switchboard/media';
import {
  type CallerPresentation,
  type LcrResult,
  NumberingError,
  type NumberingIndex,
  type RouteTarget,
} from '@switchboard/numbering';
import type { CachedSubscriber } from '../directory/directory.ts';
import type { PeerLegFactory } from '../sbc/towards-peer.ts';
import type { WholesaleIndex } from '../wholesale/wholesale-index.ts';
import type { CallStage, CallTarget } from './call-types.ts';
import type { Refusal } from './forwarding.ts';
import type { GatewayAuth, GatewayCredentials } from './gateway-credentials.ts';
import { rewriteFromSubscriber } from './number-rewrite.ts';
import type { OriginalCaller } from './plan.ts';
import { ANONYMOUS_FROM } from './privacy.ts';

/**
 * The way to the PSTN of a call of `subscriber` (its own, or one it forwards) to `e164`: the gateways
 * LCR picked, in order, with their credentials, and the callee as the subscriber's `outbound_to_peer`
 * rules write it for them.
 */
export interface PstnRoute {
  subscriber: CachedSubscriber;
  presentation: CallerPresentation | null;
  /** The caller's primary number as its `from_subscriber` rules make it, before routing. */
  callerNumber?: string | undefined;
  callee: string;
  /**
   * The callee's domain when the one gateway is a fronted domain's PBX (pbx/to-pbx.ts): the B leg's
   * Request-URI and To name the user there; unset: the number at the gateway's host.
   */
  calleeDomain?: string | undefined;
  gateways: RouteTarget[];
  auth: Map<string, GatewayAuth>;
}

export interface PstnDeps {
  /** The gateways' credentials, held in memory. */
  gateways: Pick<GatewayCredentials, 'forGateways'>;
  numbering?: NumberingIndex | undefined;
  /** The gateways' health checks (trunks/): a gateway marked down is skipped. */
  health?: GatewayHealthView | undefined;
  /** The customer's routing plan and margin protection over LCR (wholesale/); unset: LCR as it is. */
  wholesale?: Pick<WholesaleIndex, 'routesFor'> | undefined;
}

/** Which gateways this node's OPTIONS health checks see down. */
export interface GatewayHealthView {
  isDown(gatewayId: string): boolean;
}

/**
 * LCR for a number that is not ours (within the customer's routing plan and margin protection): 404
 * without numbering or route, 403 blocked, 484 not a number,
 * 503 when every gateway LCR picked is down (health check); down gateways are left out of the order.
 */
export async function routeToPstn(
  deps: PstnDeps,
  subscriber: CachedSubscriber,
  e164: string,
): Promise<PstnRoute | Refusal> {
  const numbering = deps.numbering;
  if (!numbering) return { status: 404, reason: 'Not Found' };
  const presentation = numbering.presentSubscriber(subscriber.id);
  const callerNumber = presentation?.number
    ? rewriteFromSubscriber(numbering, subscriber.id, 'caller', presentation.number).value
    : undefined;
  let route: LcrResult;
  try {
    route = numbering.routeCall({ callee: e164, caller: callerNumber, subscriberId: subscriber.id });
  } catch (error) {
    const code = error instanceof NumberingError ? error.code : 'internal';
    if (code === 'blocked') return { status: 403, reason: 'Forbidden' };
    if (code === 'no-route') return { status: 404, reason: 'No Route' };
    return { status: 484, reason: 'Address Incomplete' };
  }
  const callee = numbering.rewriteForSubscriber(
    subscriber.id,
    'outbound_to_peer',
    'callee',
    route.callee,
  ).output;
  const planned = deps.wholesale
    ? deps.wholesale.routesFor(subscriber.customerId, route.callee, route.gateways)
    : route.gateways;
  if (planned.length === 0) return { status: 404, reason: 'No Route' };
  const health = deps.health;
  const gateways = health ? planned.filter((g) => !health.isDown(g.gatewayId)) : planned;
  if (gateways.length === 0) return { status: 503, reason: 'Service Unavailable' };
  const auth = await deps.gateways.forGateways(gateways.map((g) => g.gatewayId));
  return { subscriber, presentation, callerNumber, callee, gateways, auth };
}

/** The B legs towards gateways; `hidesTopology`: SDP towards them loses the caller's origin username. */
export type PstnStage = Omit<CallStage, 'ringTimeoutS'> & { hidesTopology?: boolean };

/**
 * The B legs of a PSTN route with the caller's identity: the subscriber's primary number (after its
 * `outbound_to_peer` caller rules) asserted to the gateway (RFC 3325), withheld under CLIR. A
 * forwarded call presents `original` instead (the original caller, as carriers do, the Diversion
 * naming the forwarder), with that caller's CLIR. `peerLeg`: the session border controller's part of
 * each gateway leg (admission, header rules, topology hiding; docs/sbc.md).
 */
export function presentToPstn(
  numbering: NumberingIndex,
  route: PstnRoute,
  original?: OriginalCaller,
  peerLeg?: PeerLegFactory,
): PstnStage {
  const { subscriber, callee } = route;
  const presented = original?.number ?? route.callerNumber;
  const identity = presented
    ? numbering.rewriteForSubscriber(subscriber.id, 'outbound_to_peer', 'caller', presented).output
    : undefined;
  const clir = original ? original.clir : (route.presentation?.clir ?? false);
  let hidesTopology = false;
  const targets: CallTarget[] = route.gateways.map((g) => ({
    profile: profiles.publicPeer,
    ...sbcPart(peerLeg?.(g, { caller: identity, callee, domain: subscriber.domain }), (hides) => {
      hidesTopology ||= hides;
    }),
    uri: route.calleeDomain ? `sip:${callee}@${route.calleeDomain}` : `sip:${callee}@${g.host}:${g.port}`,
    proxy: `sip:${g.host}:${g.port};transport=${g.transport}`,
    gatewayId: g.gatewayId,
    auth: route.auth.get(g.gatewayId),
    // The network-asserted identity (RFC 3325) always carries the real number; Privacy asks the
    // trusted network to withhold it from the callee under CLIR.
    headers: identity
      ? {
          'P-Asserted-Identity': `<sip:${identity}@${subscriber.domain}>`,
          ...(clir ? { Privacy: 'id' } : {}),
        }
      : {},
  }));
  const from = clir || !identity ? ANONYMOUS_FROM : `<sip:${identity}@${subscriber.domain}>`;
  return {
    targets,
    serial: true,
    from,
    to: `<sip:${callee}@${route.calleeDomain ?? subscriber.domain}>`,
    callerRouted: identity,
    calleeRouted: callee,
    hidesTopology,
  };
}

function sbcPart(
  leg: ReturnType<PeerLegFactory> | undefined,
  hides: (hidesTopology: boolean) => void,
): Partial<CallTarget> {
  if (!leg) return {};
  const { hidesTopology, ...part } = leg;
  hides(hidesTopology);
  return part;
}

/** Route and identity in one step, for a call forward to the PSTN. */
export async function pstnLeg(
  deps: PstnDeps,
  subscriber: CachedSubscriber,
  e164: string,
  original?: OriginalCaller,
  peerLeg?: PeerLegFactory,
): Promise<PstnStage | Refusal> {
  const numbering = deps.numbering;
  if (!numbering) return { status: 404, reason: 'Not Found' };
  const route = await routeToPstn({ ...deps, numbering }, subscriber, e164);
  return 'status' in route ? route : presentToPstn(numbering, route, original, peerLeg);
}
