import type { Middleware } from '../../sip/request.ts';
import { breaksSrtpPolicy } from '../leg-profile.ts';
import { type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * The text of the Warning (RFC 3261 §20.43) a refused plain offer gets: code 302, "Incompatible
 * transport protocol", is the one for a media transport (here RTP/AVP) the other side does not take.
 */
export const SRTP_REQUIRED_WARNING = 'SRTP required: offer RTP/SAVP with a=crypto (RFC 4568)';

/**
 * INVITE stage after `classify`: a subscriber whose `srtp` policy is `mandatory` must offer encrypted
 * media. A plain RTP offer is refused with 488 Not Acceptable Here (RFC 3261 §21.4.26) and a Warning
 * saying why, before any device rings; the policy comes from the in-memory directory.
 */
export function srtpPolicy(deps: Pick<InviteDeps, 'cdr' | 'log'>): Middleware {
  return (req, res, next) => {
    const plan = planOf(req);
    const caller = plan.caller;
    if (!caller || !breaksSrtpPolicy(req.srf?.req.body, caller.srtp)) return next();
    deps.log.info(
      { callId: plan.cdr.callId, subscriber: caller.id },
      'plain RTP offer refused: SRTP is mandatory',
    );
    return refuse(deps, res, plan, 488, 'Not Acceptable Here', {
      headers: { Warning: `302 ${caller.domain} "${SRTP_REQUIRED_WARNING}"` },
    });
  };
}
