import { generateBranch } from '../messages/builders.ts';
import { Via } from '../messages/headers.ts';
import { SipRequest, type SipResponse } from '../messages/message.ts';
import { type ListenerInfo, viaTransportToken } from '../transport/types.ts';

/** Headers a CANCEL or a non-2xx ACK copies from the INVITE besides Via/To (§9.1, §17.1.1.3). */
function copyCommon(from: SipRequest, to: SipRequest, method: string): void {
  const topVia = from.topVia;
  if (!topVia) throw new Error('request has no Via');
  // A single Via: the top Via of the original request (same branch).
  to.setHeader('Via', topVia.toString());
  to.setHeader('Max-Forwards', 70);
  to.setHeader('From', from.getHeader('From') ?? '');
  to.setHeader('Call-ID', from.callId);
  to.setHeader('CSeq', `${from.cseq.seq} ${method}`);
  // Route headers as in the original request, so the message follows the same path.
  for (const route of from.getHeaders('Route')) to.appendHeader('Route', route);
}

/**
 * The ACK an INVITE client transaction sends for a 300-699 response (RFC 3261 §17.1.1.3): same Request-URI,
 * Call-ID, From, CSeq number and top Via as the INVITE, To from the response, Route from the INVITE.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest({ method: 'ACK', uri: invite.uri.clone() });
  copyCommon(invite, ack, 'ACK');
  ack.setHeader('To', response.getHeader('To') ?? invite.getHeader('To') ?? '');
  ack.setHeader('Content-Length', 0);
  return ack;
}

/**
 * A CANCEL for a pending INVITE (RFC 3261 §9.1): same Request-URI, Call-ID, To, From, CSeq number and top
 * Via (so it takes the same path and matches the server transaction by branch), Route from the INVITE.
 */
export function buildCancel(invite: SipRequest, reason?: string): SipRequest {
  const cancel = new SipRequest({ method: 'CANCEL', uri: invite.uri.clone() });
  copyCommon(invite, cancel, 'CANCEL');
  cancel.setHeader('To', invite.getHeader('To') ?? '');
  if (reason) cancel.appendHeader('Reason', reason);
  cancel.setHeader('Content-Length', 0);
  return cancel;
}

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
