import type { BridgeCore } from './bridge-core.ts';
import { flowOfOurRoutes, fromClusterPeer } from './cluster-peers.ts';
import { forwardFrom } from './proxy-operations.ts';
import type { IncomingTransaction } from './sip-stack.ts';

/**
 * The cluster step (docs/scaling.md, "Calls through the node that holds the device's flow"): a node's
 * sip-core sends a request for a device registered on another node to that node's engine, with a Route
 * naming that engine and the device's flow (RFC 5626 §5.2 flow token in the Route's user part). The
 * engine that holds the flow removes its Route (RFC 3261 §16.4, loose routing), Record-Routes (§16.6
 * step 4, RFC 5626 §5.3: with the token, so the dialog's requests take the flow too) and proxies the
 * request out on the flow, without handing it to its own apps. Flow tokens are honoured only from the
 * configured cluster peers (`SIP_CLUSTER_NODES`); from anyone else the request is handled as usual.
 */

/**
 * A new request from a cluster peer routed to one of our flows: proxied there statefully (responses,
 * CANCEL and the ACK of a failure follow through our transaction); true when taken.
 */
export function forwardToFlow(core: BridgeCore, txn: IncomingTransaction): boolean {
  if (!core.options.clusterPeers || !fromClusterPeer(core, txn.flow)) return false;
  const flow = flowOfOurRoutes(core, txn.request);
  if (!flow) return false;
  core.log.debug({ method: txn.request.method, callId: txn.request.callId, flow }, 'cluster: to the flow');
  forwardFrom(core, txn, (request) => [request.uri], { recordRoute: true, flow });
  return true;
}
