import type { ClusterNode } from '@switchboard/config';
import { encodeFlowToken } from '@switchboard/sip';
import type { CallTarget } from './call-types.ts';

/**
 * Requests to a device registered on another node of the cluster go through that node's engine, which
 * holds the device's flow (a NAT binding or the TCP/TLS/WS connection). The request is sent to that
 * engine with a preloaded Route naming it (RFC 3261 §8.1.2, loose routing) whose user part is the
 * flow token (RFC 5626 §5.2); that engine removes its Route and sends the request out on the flow,
 * Record-Routing so the dialog's requests take the same way (apps/engine bridge/cluster-forward.ts).
 * A device on this node, or on a node not in SIP_CLUSTER_NODES, is reached directly as before.
 */
export class ClusterRoutes {
  private readonly nodes: ReadonlyMap<string, ClusterNode>;

  constructor(
    /** This node's name (SIP_CORE_NODE_NAME): its own devices need no detour. */
    private readonly self: string,
    nodes: readonly ClusterNode[],
  ) {
    this.nodes = new Map(nodes.map((node) => [node.name, node]));
  }

  /** The target as sent from this node: through the node that holds its flow, when that is another. */
  route(target: CallTarget): CallTarget {
    const held = target.heldBy;
    if (!held || held.node === this.self) return target;
    const node = this.nodes.get(held.node);
    if (!node) return target;
    const host = node.host.includes(':') ? `[${node.host}]` : node.host;
    return {
      ...target,
      proxy: `sip:${host}:${node.port};transport=udp`,
      headers: { ...target.headers, Route: `<sip:${encodeFlowToken(held.flow)}@${host}:${node.port};lr>` },
    };
  }
}
