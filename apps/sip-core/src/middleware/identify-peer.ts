import type { PeerSource } from '@switchboard/numbering';
import type { Middleware } from '../sip/request.ts';

/** Who the peers are: source address -> peer gateway (the numbering index, which follows the database). */
export interface PeerDirectory {
  identifyPeer(address: string): PeerSource | null;
}

/** The contact users this platform registers to carriers with (trunk registration, trunks/). */
export interface TrunkContacts {
  identifyContact(user: string): PeerSource | null;
}

/** The user part of a SIP Request-URI, without parsing the whole message. */
function requestUser(uri: string): string | undefined {
  return /^sips?:([^@;?]+)@/i.exec(uri)?.[1];
}

/**
 * Second stage: a request from a peer gateway's address (its IP-literal host or one of its
 * `trusted_sources`) comes from that peer. So does a request to the contact a trunk registered
 * (Request-URI user = the trunk's contact user, RFC 3261 §10: the carrier sends its calls to the
 * registered contact); that user is a random token per trunk, known only to the carrier. It is
 * trusted like a configured trusted source (no digest, no rate limit, no ban) and the call handling
 * knows which gateway and peering group it came from. In-memory lookups: no database round trip per
 * request.
 */
export function identifyPeer(peers: PeerDirectory | undefined, contacts?: TrunkContacts): Middleware {
  return (req, _res, next) => {
    const { source } = req.locals;
    let peer = peers?.identifyPeer(source.address) ?? null;
    if (!peer && contacts) {
      const user = requestUser(req.uri);
      if (user) peer = contacts.identifyContact(user);
    }
    if (peer) {
      source.peer = peer;
      source.trusted = true;
    }
    next();
  };
}
