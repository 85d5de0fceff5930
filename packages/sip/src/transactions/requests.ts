import { generateBranch } from '../messages/builders.ts';
import { Via } from '../messages/headers.ts';
import type { SipRequest } from '../messages/message.ts';
import { type ListenerInfo, viaTransportToken } from '../transport/types.ts';

/**
 * Makes sure a request about to leave has a top Via of ours with an RFC 3261 branch (§8.1.1.7, §18.1.1):
 * adds one (with `rport`, RFC 3581) when there is none, or adds a branch to a Via that has none.
 */
export function ensureTopVia(request: SipRequest, listener: ListenerInfo): Via {
  let via = request.topVia;
  if (!via) {
    via = new Via({
      transport: viaTransportToken(listener.transport),
      host: listener.advertisedHost,
      port: listener.advertisedPort,
    });
    via.branch = generateBranch();
    via.rport = true;
    request.prependVia(via);
    return via;
  }
  if (!via.isRfc3261Branch) {
    via.branch = generateBranch();
    request.replaceTopVia(via);
  }
  return via;
}

/** A Via for a proxy or B2BUA adding its own hop on top of the existing ones (§16.6 step 8). */
export function newVia(listener: ListenerInfo, branch = generateBranch()): Via {
  const via = new Via({
    transport: viaTransportToken(listener.transport),
    host: listener.advertisedHost,
    port: listener.advertisedPort,
  });
  via.branch = branch;
  via.rport = true;
  return via;
}
