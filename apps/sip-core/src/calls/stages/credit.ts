import type { Middleware } from '../../sip/request.ts';
import { required } from '../plan.ts';
import { type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * After `admit`: a subscriber's call to the PSTN asks the credit control (calls/credit.ts). A prepaid
 * customer's call gets the seconds its reserved credit pays for (`Call` cuts it when they run out and
 * no more credit is left); a balance that pays for nothing is refused with 402 Payment Required
 * (RFC 3261 §21.4.3), a customer or subscriber blocked by a spend limit with 403 and a Warning
 * (RFC 3261 §20.43) saying why.
 */
export function credit(deps: Pick<InviteDeps, 'cdr' | 'credit' | 'log'>): Middleware {
  return async (req, res, next) => {
    const plan = planOf(req);
    const control = deps.credit;
    const caller = plan.caller;
    if (!control || plan.kind !== 'outbound' || plan.destination.kind !== 'pstn' || !caller) return next();
    const admitted = required(plan.admitted, 'admission');
    const e164 = plan.destination.e164;
    const decision = await control.authorise({
      callId: plan.cdr.callId,
      customerId: caller.customerId,
      subscriberId: caller.id,
      number: e164.startsWith('+') ? e164.slice(1) : e164,
      at: new Date(),
    });
    if (decision.kind === 'refused') {
      admitted.release();
      deps.log.info(
        { caller: caller.id, status: decision.status, warning: decision.warning },
        'call refused by credit control',
      );
      return refuse(
        deps,
        res,
        plan,
        decision.status,
        decision.reason,
        decision.warning ? { headers: { Warning: decision.warning } } : undefined,
      );
    }
    if (decision.kind === 'granted') admitted.credit = decision;
    next();
  };
}
