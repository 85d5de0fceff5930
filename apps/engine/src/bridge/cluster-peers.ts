import { decodeFlowToken, type FlowTarget, type SipRequest } from '@switchboard/sip';
import type { BridgeCore } from './bridge-core.ts';
import type { Flow } from './sip-stack.ts';

/** Who counts as a cluster peer and which flow our Route names (cluster-forward.ts says why). */

/** Whether a message came from a configured cluster peer (by source address). */
export function fromClusterPeer(core: BridgeCore, flow: Flow): boolean {
  return core.options.clusterPeers?.has(flow.remoteAddress) === true;
}

/** The flow named by a token in the Route values at the top of the request that designate us (§16.4). */
export function flowOfOurRoutes(core: BridgeCore, request: SipRequest): FlowTarget | undefined {
  const proxy = core.stack.proxy?.core;
  if (!proxy) return undefined;
  for (const route of request.route) {
    if (!proxy.isLocal(route.uri)) return undefined;
    const flow = route.uri.kind === 'sip' ? decodeFlowToken(route.uri.user) : undefined;
    if (flow) return flow;
  }
  return undefined;
}
