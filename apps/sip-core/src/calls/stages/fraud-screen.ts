import type { Middleware } from '../../sip/request.ts';
import { required } from '../plan.ts';
import { type InviteDeps, planOf, refuse } from './deps.ts';

/**
 * After `admit`, before `credit`: a subscriber's call to the PSTN is screened for fraud in memory
 * (docs/billing.md, "Fraud limits"). A destination under one of the operator's high-risk prefixes
 * raises an alert and, for a customer whose `highRiskAction` is `block`, is refused with 403 and a
 * Warning (RFC 3261 §20.43) saying why; too many calls of one customer in a short time raise one
 * burst alert. Refused here, the call reserves no credit and never reaches a gateway.
 */
export function fraudScreen(deps: Pick<InviteDeps, 'cdr' | 'credit' | 'log'>): Middleware {
  return async (req, res, next) => {
    const plan = planOf(req);
    const screen = deps.credit?.screen;
    const caller = plan.caller;
    if (!screen || plan.kind !== 'outbound' || plan.destination.kind !== 'pstn' || !caller) return next();
    const e164 = plan.destination.e164;
    const decision = screen({
      callId: plan.cdr.callId,
      customerId: caller.customerId,
      subscriberId: caller.id,
      number: e164.startsWith('+') ? e164.slice(1) : e164,
      at: new Date(),
    });
    if (decision.kind === 'pass') return next();
    required(plan.admitted, 'admission').release();
    deps.log.info({ caller: caller.id, warning: decision.warning }, 'call refused by fraud screening');
    return refuse(deps, res, plan, decision.status, decision.reason, {
      headers: { Warning: decision.warning },
    });
  };
}
