import type { NumberingIndex, RouteTarget } from '@switchboard/numbering';
import type { Refusal } from '../calls/forwarding.ts';
import { rewriteFromSubscriber } from '../calls/number-rewrite.ts';
import type { Destination } from '../calls/plan.ts';
import type { PstnDeps, PstnRoute } from '../calls/pstn.ts';
import type { CachedSubscriber, UpstreamPbx } from '../directory/directory.ts';

/**
 * A fronted domain's PBX as a gateway of a route: its peering group (for the group's rules and
 * limits) is the one the peer index identifies by the gateway's address.
 */
export function pbxGateway(numbering: NumberingIndex | undefined, pbx: UpstreamPbx): RouteTarget {
  const peer = numbering?.identifyPeer(pbx.host);
  const same = peer?.gatewayId === pbx.gatewayId;
  return {
    gatewayId: pbx.gatewayId,
    gatewayName: same ? peer.gatewayName : '',
    groupId: same ? peer.groupId : '',
    groupName: same ? peer.groupName : '',
    host: pbx.host,
    port: pbx.port,
    transport: pbx.transport,
    ruleId: '',
    calleePrefix: '',
  };
}

/**
 * The way of a subscriber's call to a user of a fronted domain (docs/sbc.md, "Fronting a PBX"): the
 * domain's PBX as the one gateway of an outbound route, so that the call gets everything a call to a
 * peer gets (the gateway's admission limits, header rules, topology hiding, codec policy, the
 * caller's number asserted as towards a carrier) and the PBX routes it on, to its phone through our
 * Path. The B leg addresses `user@domain` (the PBX's own name for its user), not a number at the
 * gateway's host. A PBX whose health check has it down gets the caller 503, as LCR would.
 */
export async function routeToPbx(
  deps: Pick<PstnDeps, 'gateways' | 'numbering' | 'health'>,
  subscriber: CachedSubscriber,
  destination: Extract<Destination, { kind: 'pbx' }>,
): Promise<PstnRoute | Refusal> {
  const { pbx } = destination;
  if (deps.health?.isDown(pbx.gatewayId)) return { status: 503, reason: 'Service Unavailable' };
  const numbering = deps.numbering;
  const presentation = numbering?.presentSubscriber(subscriber.id) ?? null;
  const callerNumber =
    numbering && presentation?.number
      ? rewriteFromSubscriber(numbering, subscriber.id, 'caller', presentation.number).value
      : undefined;
  const gateway = pbxGateway(numbering, pbx);
  const auth = await deps.gateways.forGateways([pbx.gatewayId]);
  return {
    subscriber,
    presentation,
    callerNumber,
    callee: destination.user,
    calleeDomain: destination.domain,
    gateways: [gateway],
    auth,
  };
}
