import { createResponse } from '../messages/builders.ts';
import type { SipRequest, SipResponse } from '../messages/message.ts';

/**
 * RFC 4028 negotiation on the UAS side: refusing intervals below our Min-SE (§8.1) and filling in the 2xx
 * (§9). The timers themselves run in SessionTimer.
 */

/**
 * §8.1: a session interval shorter than our Min-SE is refused with 422 and our Min-SE. For a refresh (INVITE
 * or UPDATE inside a dialog) always; for an initial INVITE only when the UAC supports timers (§9), since one
 * that does not cannot act on a 422: it gets the longer interval in the 2xx instead.
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

/** The timer a 2xx agrees on: its interval in seconds and whether we (the UAS of that request) refresh. */
export interface AgreedSessionTimer {
  interval: number;
  weRefresh: boolean;
}

/**
 * §9 on a 2xx we send to an INVITE or UPDATE. A Session-Expires already in the response is kept (its interval
 * raised to our Min-SE, as drachtio-server runs it); otherwise, when the request asks for a session timer and
 * supports timers, we accept the interval (at least both Min-SEs) with the refresher it named, `uac` by
 * default, writing Session-Expires (and Require: timer when the UAC refreshes). Undefined: no session timer
 * (a refresh without Session-Expires turns it off).
 */
export function answerSessionTimer(
  request: SipRequest,
  response: SipResponse,
  minSE: number,
): AgreedSessionTimer | undefined {
  const answered = response.sessionExpires;
  if (answered) {
    return {
      interval: Math.max(answered.seconds, minSE),
      weRefresh: (answered.refresher ?? 'uac') === 'uas',
    };
  }
  const asked = request.sessionExpires;
  if (!asked || !request.supported.includes('timer')) return undefined;
  const interval = Math.max(asked.seconds, request.minSE ?? 0, minSE);
  const refresher = asked.refresher ?? 'uac';
  response.setHeader('Session-Expires', `${interval};refresher=${refresher}`);
  if (refresher === 'uac' && !response.require.includes('timer')) response.appendHeader('Require', 'timer');
  return { interval, weRefresh: refresher === 'uas' };
}

/**
 * §7.2 on a 2xx to an INVITE or UPDATE we sent: its Session-Expires sets the timer, and refresher=uac (or
 * none) means we refresh. Undefined: the answer has no session timer.
 */
export function acceptedSessionTimer(response: SipResponse): AgreedSessionTimer | undefined {
  const se = response.sessionExpires;
  return se ? { interval: se.seconds, weRefresh: se.refresher !== 'uas' } : undefined;
}
