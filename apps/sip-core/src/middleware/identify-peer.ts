import type { PeerSource } from '@switchboard/numbering';
import type { Middleware } from '../sip/request.ts';

/** Who the peers are: source address -> peer gateway (the numbering index, which follows the database). */
export interface PeerDirectory {
  identifyPeer(address: string): PeerSource | null;
}

/**
 * Second stage: a request from a peer gateway's address (its IP-literal host or one of its
 * `trusted_sources`) comes from that peer. It is trusted like a configured trusted source (no digest,
 * no rate limit, no ban) and the call handling knows which gateway and peering group it came from.
 * An in-memory lookup on the index's current snapshot: no database round trip per request.
 */
export function identifyPeer(peers: PeerDirectory): Middleware {
  return (req, _res, next) => {
    const { source } = req.locals;
    const peer = peers.identifyPeer(source.address);
    if (peer) {
      source.peer = peer;
      source.trusted = true;
    }
    next();
  };
}
