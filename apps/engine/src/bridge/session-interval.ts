import { createResponse, type SipRequest, type SipResponse } from '@switchboard/sip';

/**
 * RFC 4028 §8.1: a session interval shorter than our Min-SE is refused with 422 and our Min-SE. For a
 * refresh (INVITE or UPDATE inside a dialog) always; for an initial INVITE only when the UAC supports
 * timers (§9), since one that does not cannot act on a 422: it gets the longer interval in the 2xx instead.
 * Returns the 422 to send, or undefined when the interval is acceptable.
 */
export function tooShortSession(
  request: SipRequest,
  minSE: number,
  initial: boolean,
): SipResponse | undefined {
  if (request.method !== 'INVITE' && request.method !== 'UPDATE') return undefined;
  const se = request.sessionExpires;
  if (!se || se.seconds >= minSE) return undefined;
  if (initial && !request.supported.includes('timer')) return undefined;
  return createResponse(request, 422, { headers: [['Min-SE', String(minSE)]] });
}
